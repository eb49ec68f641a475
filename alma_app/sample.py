"""The bundled demo data set (sample_data/): loaded idempotently by `alma demo` and `make run`.

Times in the files are relative ("days_ago") so the demo always looks recent and its decay
charts show a realistic spread.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alma_app.errors import ValidationError
from alma_app.memory.types import MEMORY_CLASSES, Memory
from alma_app.values import utcnow

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValidationError(str(path), f"line {number} is not JSON: {exc}") from exc
    return records


def memory_from_sample(record: dict[str, Any], project_id: str, now: datetime) -> Memory:
    """Build a memory from a sample record, turning `*_days_ago` into timestamps."""
    cls = MEMORY_CLASSES[record["type"]]
    created = now - timedelta(days=float(record["days_ago"]))
    known = {f.name for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in record.get("fields", {}).items():
        if key.endswith("_days_ago"):
            name = key.removesuffix("_days_ago")
            if name in known:
                kwargs[name] = now - timedelta(days=float(value))
        elif key in known:
            kwargs[key] = value
    for clock in ("last_validated", "last_verified", "last_seen", "timestamp"):
        if clock in known and clock not in kwargs:
            kwargs[clock] = created
    return cls(
        id=record["id"],
        agent=record.get("agent"),
        project_id=project_id,
        status=record.get("status", "approved"),
        created_at=created,
        updated_at=created,
        metadata=record.get("metadata") or {},
        **kwargs,
    )


def load_sample_memories(alma: Any, directory: Path = SAMPLE_DIR) -> int:
    """Insert the sample memories that are not in the store yet; returns how many were added."""
    records = read_jsonl(directory / "memories.jsonl")
    ids = [r["id"] for r in records]
    # Skip what is stored, and what a user deleted (archived): loading twice changes nothing.
    existing = {m.id for m in alma.get_memories(ids)}
    existing |= {a.memory.id for a in alma.list_archived(limit=10_000)}
    now = utcnow()
    missing = [
        memory_from_sample(r, alma.project_id, now) for r in records if r["id"] not in existing
    ]
    if missing:
        alma.add_memories(missing, actor="sample-data")
    return len(missing)


def load_sample_board(alma: Any, directory: Path = SAMPLE_DIR) -> int:
    """Load the sample work items and handoffs (sessions) on first call; returns how many records
    were stored. Both importers keep the records' ids, and items already on the board are left
    as they are, so a second call (or `alma demo` after someone moved a card) changes nothing."""
    tracker = alma.progress
    sessions = alma.sessions
    items = read_jsonl(directory / "work_items.jsonl")
    known = {item.id for item in tracker.board()}
    stored = 0
    if not known & {r["id"] for r in items}:
        stored += tracker.import_items(items, actor="sample-data")
    handoffs = read_jsonl(directory / "handoffs.jsonl")
    present = {h.session_id for h in sessions.list_handoffs(limit=1000)}
    missing = [r for r in handoffs if r["session_id"] not in present]
    if missing:
        stored += sessions.import_handoffs(missing)
    return stored
