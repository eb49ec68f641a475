"""Conversion between memory dataclasses and store rows.

Common fields are real columns; type-specific fields travel in the `payload` JSON; timestamps
are ISO strings there and tz-aware datetimes everywhere else.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from alma_app.errors import ValidationError
from alma_app.memory.types import MEMORY_CLASSES, Memory

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


def to_row(memory: Memory, vector: Any) -> dict[str, Any]:
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
    }


def from_row(row: dict[str, Any]) -> Memory:
    cls = MEMORY_CLASSES[row["type"]]
    payload = json.loads(row.get("payload") or "{}")
    kwargs: dict[str, Any] = {}
    known = {f.name: f for f in fields(cls)}
    for name, value in payload.items():
        if name not in known:
            continue  # a field from a newer version: ignore rather than fail to read
        if isinstance(value, str) and "datetime" in str(known[name].type):
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


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _parse_time(value: str) -> datetime:
    return _utc(datetime.fromisoformat(value))
