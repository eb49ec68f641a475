"""Every argument check, in one place, shared by every front door (API, CLI, MCP, import, pages).

Each check returns the value (normalised where said) or raises a ValidationError whose message
starts with the argument's name, so a caller always learns which field was wrong. Text must be
valid Unicode that can be stored as UTF-8: lone surrogates (what a non-UTF-8 byte becomes in a
command line) and NUL characters are refused here, not left to fail deep inside the store.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from alma_app.errors import ValidationError

MAX_TEXT_CHARS = 20_000
MAX_LIST_ITEMS = 200
MAX_METADATA_CHARS = 64_000  # metadata is JSON stored beside every row; not a blob store
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def describe(value: Any) -> str:
    """A short, printable description of a bad value (never the raw text of a huge one)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_text(
    argument: str, value: Any, *, allow_empty: bool = False, max_chars: int = MAX_TEXT_CHARS
) -> str:
    """A user-supplied text: a str, not blank, valid Unicode, no NUL, at most max_chars."""
    if not isinstance(value, str):
        raise ValidationError(argument, f"expected a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise ValidationError(argument, "must not be empty")
    if "\x00" in value:
        raise ValidationError(argument, "must not contain NUL characters")
    if len(value) > max_chars:
        raise ValidationError(argument, f"is {len(value)} characters; the limit is {max_chars}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            argument,
            f"is not valid Unicode (a lone surrogate {value[exc.start]!a} at position "
            f"{exc.start}; was it decoded from bytes that are not UTF-8?)",
        ) from None
    return value


def check_optional_text(argument: str, value: Any, *, allow_empty: bool = False) -> str | None:
    return None if value is None else check_text(argument, value, allow_empty=allow_empty)


def check_int(argument: str, value: Any, *, low: int = INT64_MIN, high: int = INT64_MAX) -> int:
    """An int (never a bool, which Python counts as one) within [low, high] (int64 at most)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(argument, f"expected an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValidationError(argument, f"must be an integer from {low} to {high}, got {value}")
    return value


def check_number(
    argument: str, value: Any, *, low: float | None = None, high: float | None = None
) -> float:
    """A finite int or float (not a bool) within the bounds given, as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(argument, f"expected a number, got {type(value).__name__}")
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ValidationError(argument, f"is out of range, got {describe(value)}")
    if not math.isfinite(value):
        raise ValidationError(argument, f"must be finite, got {value!r}")
    if low is not None and value < low:
        raise ValidationError(argument, f"must be at least {low:g}, got {value!r}")
    if high is not None and value > high:
        raise ValidationError(argument, f"must be at most {high:g}, got {value!r}")
    return float(value)


def check_confidence(value: Any, argument: str = "confidence") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(argument, f"expected a number, got {type(value).__name__}")
    if isinstance(value, int) and not 0 <= value <= 1:
        raise ValidationError(argument, f"must be between 0 and 1, got {describe(value)}")
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValidationError(argument, f"must be between 0 and 1, got {value!r}")
    return float(value)


def check_bool(argument: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(argument, f"expected true or false, got {describe(value)}")
    return value


def check_choice(argument: str, value: Any, choices: Collection[str]) -> str:
    """One of a fixed set of names (memory types, statuses, outcomes, item types)."""
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(argument, f"must be one of {tuple(choices)}, got {describe(value)}")
    return value


def check_text_list(argument: str, values: Any, *, max_items: int = MAX_LIST_ITEMS) -> list[str]:
    """A list (or tuple) of non-empty strings; None is []; a str is refused, not split."""
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise ValidationError(argument, f"expected a list of strings, got {type(values).__name__}")
    if len(values) > max_items:
        raise ValidationError(argument, f"has {len(values)} entries; the limit is {max_items}")
    return [check_text(f"{argument}[{i}]", v) for i, v in enumerate(values)]


def check_ids(argument: str, values: Any) -> list[str]:
    """A list (or tuple) of ids; None and a bare string are refused (a str is not split)."""
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise ValidationError(argument, f"expected a list of ids, got {type(values).__name__}")
    return [check_text(argument, v) for v in values]


def check_metadata(argument: str, value: Any, *, max_chars: int = MAX_METADATA_CHARS) -> dict:
    """A dict that survives a JSON round trip unchanged (str keys, no NaN, no objects, no
    tuples, valid Unicode) and is at most max_chars as JSON."""
    if not isinstance(value, dict):
        raise ValidationError(argument, f"expected a mapping, got {type(value).__name__}")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True)
        text.encode("utf-8")
        same = json.loads(text) == value
    except (TypeError, ValueError, RecursionError) as exc:
        reason = "a lone surrogate" if isinstance(exc, UnicodeError) else exc
        raise ValidationError(argument, f"must be plain JSON (str keys): {reason}") from None
    if not same:
        raise ValidationError(argument, "must be plain JSON: str keys, lists rather than tuples")
    if len(text) > max_chars:
        raise ValidationError(
            argument, f"is {len(text)} characters of JSON; the limit is {max_chars}"
        )
    return value


def check_datetime(argument: str, value: Any) -> datetime:
    """A datetime, or an ISO 8601 string; returned timezone-aware (naive means UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(check_text(argument, value))
        except ValueError:
            raise ValidationError(argument, f"not an ISO timestamp: {describe(value)}") from None
    if not isinstance(value, datetime):
        raise ValidationError(argument, f"expected a timestamp, got {type(value).__name__}")
    return utc(value)


def check_limit(argument: str, value: Any, low: int, high: int) -> int:
    """A count within [low, high] (limit, top_k, points): an int, never a bool."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(argument, f"must be an integer from {low} to {high}, got {value!r}")
    return value


def check_id_list(argument: str, values: Any) -> list[str]:
    """One id or a non-empty list of ids, without repeats, in the order given (review, restore)."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list | tuple) or not values:
        raise ValidationError(argument, "expected a non-empty list of memory ids")
    return [check_text(argument, i) for i in dict.fromkeys(values)]


def utc(value: datetime) -> datetime:
    """The same instant in UTC: a naive datetime is taken to be UTC already."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
