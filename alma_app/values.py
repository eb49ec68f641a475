"""Small helpers every package shares: the clock, ids, and the one JSON encoding of stored values.

The clock is replaceable (set_clock) so simulations and tests can live through months in seconds;
every timestamp the core writes comes from utcnow().
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from alma_app.checks import check_number, utc
from alma_app.errors import ValidationError


def _system_now() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = _system_now


def utcnow() -> datetime:
    """The current time, timezone-aware; the process's clock (see set_clock)."""
    return _clock()


def set_clock(now: Callable[[], datetime] | None) -> Callable[[], datetime]:
    """Replace the clock every timestamp and decay reads (None restores the system clock);
    returns the previous one. Exists so simulations (benchmarks/learning_curve.py) and tests
    can live through months of a calendar in seconds."""
    global _clock
    previous, _clock = _clock, now or _system_now
    return previous


def new_id() -> str:
    return uuid.uuid4().hex


def dumps(value: Any) -> str:
    """JSON for a stored value (event snapshots): datetimes as ISO text, tuples as lists."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)


def loads(text: str | None) -> dict[str, Any]:
    """The dict a stored JSON text holds ({} for none, or for JSON that is not an object)."""
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def parse_time(value: Any) -> datetime | None:
    """A datetime from a stored value (datetime or ISO string), always timezone-aware."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ValidationError("timestamp", f"expected a datetime, got {type(value).__name__}")
    return utc(value)


def days_ago(now: datetime, value: Any, argument: str) -> datetime | None:
    """`now - value days` for the sample files' relative timestamps (None stays None)."""
    if value is None:
        return None
    return now - timedelta(days=check_number(argument, value, low=0))


__all__ = ["days_ago", "dumps", "loads", "new_id", "parse_time", "set_clock", "utc", "utcnow"]
