"""Conversion between memory dataclasses and store rows.

Common fields are real columns; type-specific fields travel in the `payload` JSON; timestamps
are ISO strings there and tz-aware datetimes everywhere else.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from datetime import datetime
from typing import Any

from alma_app.checks import (
    check_bool,
    check_choice,
    check_confidence,
    check_int,
    check_metadata,
    check_number,
    check_text,
    check_text_list,
    describe,
    utc,
)
from alma_app.errors import ValidationError
from alma_app.memory.types import MEMORY_CLASSES, MEMORY_TYPES, STATUSES, Memory

COMMON = {
    "id",
    "agent",
    "project_id",
    "status",
    "created_at",
    "updated_at",
    "shared_with",
    "metadata",
    "version",
    "effective_confidence",
    "score",
}
# Fields of a memory that may be an empty string (the memory's text as a whole may not).
_EMPTY_OK = {"better_alternative", "why_bad", "condition", "strategy", "strategy_used"}
ROW_COLUMNS = [
    "id",
    "type",
    "agent",
    "user_id",
    "project_id",
    "status",
    "category",
    "text",
    "confidence",
    "created_at",
    "updated_at",
    "validated_at",
    "shared_with",
    "payload",
    "metadata",
    "version",
]


# What from_row needs: the columns a search fetches for each candidate (not the search text, the
# category, the confidence or the clock, which the payload also holds).
HIT_COLUMNS = [
    c for c in ROW_COLUMNS if c not in {"user_id", "category", "text", "confidence", "validated_at"}
]


def payload_fields(cls: type[Memory]) -> list[str]:
    return [f.name for f in fields(cls) if f.name not in COMMON]


def to_row(memory: Memory, vector: Any, task_vector: bytes | None = None) -> dict[str, Any]:
    """The store row; `task_vector`: an outcome's task embedded alone (memory/task_vectors.py)."""
    payload = {}
    for name in payload_fields(type(memory)):
        value = getattr(memory, name)
        payload[name] = value.isoformat() if isinstance(value, datetime) else value
    confidence = memory.stored_confidence
    if not math.isfinite(confidence):
        raise ValidationError("confidence", f"must be a finite number, got {confidence!r}")
    return {
        "id": memory.id,
        "type": memory.TYPE,
        "agent": memory.agent,
        "user_id": getattr(memory, "user_id", None) or None,
        "project_id": memory.project_id,
        "status": memory.status,
        "category": memory.category,
        "text": memory.text(),
        "confidence": confidence,
        "created_at": _utc(memory.created_at),
        "updated_at": _utc(memory.updated_at),
        "validated_at": _utc(memory.clock),
        "shared_with": list(memory.shared_with),
        "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
        "metadata": json.dumps(memory.metadata, ensure_ascii=False, sort_keys=True, default=str),
        "version": int(memory.version),
        "vector": vector,
        "task_vector": task_vector,
    }


# Each memory class's fields, and whether each holds a time (stored as an ISO string): read once,
# not per row (a retrieve hydrates up to ~30 memories).
_FIELD_IS_TIME = {
    cls: {f.name: "datetime" in str(f.type) for f in fields(cls)} for cls in MEMORY_CLASSES.values()
}


def from_row(row: dict[str, Any]) -> Memory:
    cls = MEMORY_CLASSES[row["type"]]
    payload = json.loads(row.get("payload") or "{}")
    kwargs: dict[str, Any] = {}
    known = _FIELD_IS_TIME[cls]
    for name, value in payload.items():
        is_time = known.get(name)
        if is_time is None:
            continue  # a field from a newer version: ignore rather than fail to read
        if is_time and isinstance(value, str):
            value = _parse_time(value)
        kwargs[name] = value
    return cls(
        id=row["id"],
        agent=row.get("agent"),
        project_id=row.get("project_id") or "",
        status=row.get("status") or "approved",
        created_at=_utc(row["created_at"]),
        updated_at=_utc(row["updated_at"]),
        shared_with=list(row.get("shared_with") or []),
        metadata=json.loads(row.get("metadata") or "{}"),
        version=int(row.get("version") or 0),
        **kwargs,
    )


def memory_from_plain(plain: dict[str, Any]) -> Memory:
    """Rebuild a memory from `records.to_plain` output (archive records, event snapshots).

    Read-only extras (effective_confidence, score) and unknown keys are ignored.
    """
    cls = MEMORY_CLASSES.get(plain.get("type", ""))
    if cls is None:
        raise ValidationError("record", f"unknown memory type {plain.get('type')!r}")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in {"score", "effective_confidence"} or f.name not in plain:
            continue
        value = plain[f.name]
        if isinstance(value, str) and "datetime" in str(f.type):
            value = utc(datetime.fromisoformat(value))
        elif isinstance(value, list):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def to_plain(memory: Memory) -> dict[str, Any]:
    """A JSON-ready dict of every field (for export, MCP, events and the dashboard)."""
    out: dict[str, Any] = {"id": memory.id, "type": memory.TYPE}
    for f in fields(memory):
        if f.name in {"score", "effective_confidence"}:
            continue
        value = getattr(memory, f.name)
        out[f.name] = value.isoformat() if isinstance(value, datetime) else value
    if memory.effective_confidence is not None:
        out["effective_confidence"] = memory.effective_confidence
    if memory.score is not None:
        out["score"] = memory.score.as_dict()
    return out


_utc = utc  # the name search.py imports


def _parse_time(value: str) -> datetime:
    return _utc(datetime.fromisoformat(value))


def check_memory(memory: Any) -> None:
    """Every field of a memory against its declared type: text, numbers, lists, metadata.

    Raises ValidationError naming the field. Used before every write, so an import, an edit or
    a hand-built Memory cannot store a value that would break reading it back.
    """
    check_choice("type", memory.TYPE, MEMORY_TYPES)
    check_choice("status", memory.status, STATUSES)
    for f in fields(memory):
        name, kind = f.name, str(f.type)
        if name in {"score", "effective_confidence"}:
            continue
        value = getattr(memory, name)
        optional = kind.endswith("| None")
        if value is None and optional:
            continue
        if kind.startswith("str"):
            check_text(name, value, allow_empty=name in _EMPTY_OK)
        elif kind.startswith("int"):
            check_int(name, value, low=0)
        elif kind.startswith("float"):
            check_confidence(value, name) if name == "confidence" else check_number(name, value)
        elif kind.startswith("bool"):
            check_bool(name, value)
        elif kind.startswith("datetime"):
            if not isinstance(value, datetime):
                raise ValidationError(name, f"expected a timestamp, got {type(value).__name__}")
        elif kind.startswith("list"):
            if not isinstance(value, list):
                raise ValidationError(name, f"expected a list of strings, got {describe(value)}")
            check_text_list(name, value, max_items=10_000)
        elif kind.startswith("dict"):
            check_metadata(name, value)
    if memory.TYPE != "preference":
        check_text("agent", memory.agent)
    check_text("text", memory.text())
    successes, uses = getattr(memory, "success_count", 0), getattr(memory, "occurrence_count", 0)
    if memory.TYPE == "heuristic" and successes > uses:
        # success_rate and the learned confidence would pass 1, and every later learn() that
        # reinforced or weakened the heuristic would then be refused.
        raise ValidationError(
            "success_count", f"must not exceed occurrence_count ({successes} > {uses})"
        )
