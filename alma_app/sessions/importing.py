"""Loading handoffs from JSONL records (sample_data/handoffs.jsonl): SessionManager.importer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from alma_app.checks import check_confidence, check_text, check_text_list
from alma_app.errors import ValidationError, store_errors
from alma_app.events import HUMAN
from alma_app.sessions.types import LAST_OUTCOMES, SessionHandoff, SessionRecord
from alma_app.values import days_ago, utcnow

if TYPE_CHECKING:
    from alma_app.sessions.manager import SessionManager

RECORD_KEYS = {
    "session_id",
    "agent",
    "goal",
    "started_days_ago",
    "ended_days_ago",
    "last_action",
    "last_outcome",
    "key_decisions",
    "blockers",
    "next_steps",
    "active_files",
    "test_status",
    "confidence",
    "risk_flags",
    "metadata",
}


def check_test_status(value: Any) -> dict[str, int]:
    """{"passed": 3, "failed": 0, ...}: names to counts >= 0."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError("test_status", "expected a mapping like {'passed': 3, 'failed': 0}")
    out = {}
    for key, count in value.items():
        check_text("test_status key", key)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValidationError(f"test_status.{key}", f"expected a count >= 0, got {count!r}")
        out[key] = count
    return out


class HandoffImporter:
    """Many ended sessions of a manager's project, and their handoffs, in one commit."""

    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager

    def import_handoffs(self, records: Sequence[dict[str, Any]]) -> int:
        """Load sample_data/handoffs.jsonl-style records: one ended session and its handoff
        each, keyed by session_id so re-importing replaces rather than duplicates."""
        if isinstance(records, dict | str) or not isinstance(records, Sequence):
            raise ValidationError("records", "expected a list of handoff records")
        now = utcnow()
        sessions, handoffs = [], []
        for n, record in enumerate(records):
            session, handoff = self._from_record(n, record, now)
            sessions.append(session)
            handoffs.append(handoff)
        if not handoffs:
            return 0
        manager = self.manager
        vectors = manager.context.embedder.embed([h.text() for h in handoffs])
        with store_errors():
            manager.store.upsert("sessions", [s.to_row() for s in sessions])
            manager.store.upsert(
                "handoffs", [h.to_row(v) for h, v in zip(handoffs, vectors, strict=True)]
            )
        manager.events.append(
            "handoff",
            [(h.id, "import", HUMAN, None, h.as_dict(), "import_handoffs") for h in handoffs],
        )
        return len(handoffs)

    def _from_record(self, n: int, record: Any, now: Any) -> tuple[SessionRecord, SessionHandoff]:
        where = f"records[{n}]"
        known = RECORD_KEYS
        if not isinstance(record, dict):
            raise ValidationError(where, f"expected a mapping, got {type(record).__name__}")
        unknown = sorted(set(record) - known)
        if unknown:
            raise ValidationError(where, f"unknown keys {unknown}; known: {sorted(known)}")
        try:
            started = days_ago(now, record.get("started_days_ago"), "started_days_ago") or now
            ended = days_ago(now, record.get("ended_days_ago"), "ended_days_ago") or now
            session_id = check_text("session_id", record.get("session_id"))
            agent = check_text("agent", record.get("agent"))
            outcome = record.get("last_outcome", "unknown")
            if outcome not in LAST_OUTCOMES:
                raise ValidationError("last_outcome", f"must be one of {LAST_OUTCOMES}")
            session = SessionRecord(
                id=session_id,
                project_id=self.manager.project_id,
                agent=agent,
                goal=check_text("goal", record.get("goal")),
                status="ended",
                started_at=started,
                updated_at=ended,
                ended_at=ended,
                decisions=check_text_list("key_decisions", record.get("key_decisions")),
                blockers=check_text_list("blockers", record.get("blockers")),
                active_files=check_text_list("active_files", record.get("active_files")),
            )
            handoff = SessionHandoff(
                id=f"handoff-{session_id}",
                project_id=self.manager.project_id,
                agent=agent,
                session_id=session_id,
                goal=session.goal,
                last_action=check_text("last_action", record.get("last_action")),
                last_outcome=outcome,
                key_decisions=session.decisions,
                blockers=session.blockers,
                next_steps=check_text_list("next_steps", record.get("next_steps")),
                active_files=session.active_files,
                test_status=check_test_status(record.get("test_status")),
                confidence=check_confidence(record.get("confidence", 0.5)),
                risk_flags=check_text_list("risk_flags", record.get("risk_flags")),
                session_start=started,
                session_end=ended,
                created_at=ended,
                metadata=dict(record.get("metadata") or {}),
            )
        except ValidationError as exc:
            raise ValidationError(where, str(exc)) from exc
        return session, handoff
