"""SessionManager: sessions and handoffs in the store, so the next session starts where the
last one stopped, whichever process runs it.

    manager = SessionManager("my-project")              # opens .alma/config.yaml
    ctx = manager.start_session("helena", "Finish the auth tests")
    manager.update_session("helena", ctx.session_id, decision="Mock OAuth")
    manager.create_handoff("helena", ctx.session_id, "ran auth tests", "partial",
                           next_steps=["Cover token refresh"])
    print(manager.get_quick_reload("helena"))

Errors: ValidationError for bad arguments, NotFoundError for an unknown session or handoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import alma_store as st
from alma_app.board.tracker import tracker_in
from alma_app.checks import check_confidence, check_limit, check_text, check_text_list
from alma_app.context import CoreContext
from alma_app.errors import NotFoundError, ValidationError, store_errors
from alma_app.memory import hybrid, scoring
from alma_app.memory.prompt import sanitize
from alma_app.memory.service import MemoryService
from alma_app.memory.types import MemoryPage, MemorySlice
from alma_app.sessions.importing import HandoffImporter, check_test_status
from alma_app.sessions.types import (
    LAST_OUTCOMES,
    SessionContext,
    SessionHandoff,
    SessionRecord,
    render_handoff,
)
from alma_app.values import utcnow

if TYPE_CHECKING:  # the signature names the facade, as the original's does; nothing imports it
    from alma_app.api import ALMA

__all__ = ["SessionContext", "SessionHandoff", "SessionManager", "SessionRecord"]


def _check_limit(limit: Any) -> int:
    return check_limit("limit", limit, 1, 1000)


class Recall(Protocol):
    """The memories a new session starts with: an ALMA handle, or a MemoryService."""

    def retrieve(self, task: str, agent: str) -> MemorySlice: ...

    def list_memories(self, *, agent: str, memory_type: str, limit: int) -> MemoryPage: ...


class SessionManager:
    """Sessions and handoffs of one project, persisted in the ALMA store.

    Given an ALMA handle it works in that store and starts sessions with its memories; given
    neither a handle nor a context, it opens the store .alma/config.yaml names.
    """

    def __init__(self, project_id: str, alma: ALMA | None = None) -> None:
        self.project_id = check_text("project_id", project_id)
        context = alma.context if alma is not None else CoreContext.from_config()
        self.alma = alma
        self.context = context
        self.recall: Recall = alma if alma is not None else MemoryService(context)
        self.store = context.store
        self.events = context.events.for_project(project_id)
        self.progress = tracker_in(context, project_id)
        self.importer = HandoffImporter(self)

    def import_handoffs(self, records: Sequence[dict[str, Any]]) -> int:
        """Load handoff records (see HandoffImporter.import_handoffs)."""
        return self.importer.import_handoffs(records)

    def _scope(self, agent: str | None = None) -> st.Filter:
        parts: list[st.Filter | None] = [st.Eq("project_id", self.project_id)]
        if agent is not None:
            parts.append(st.Eq("agent", check_text("agent", agent)))
        return st.all_of(*parts)  # type: ignore[return-value]

    # ------------------------------------------------------------------ sessions

    def start_session(self, agent: str, goal: str) -> SessionContext:
        """Open a session and gather what the agent needs to continue: the previous handoff,
        the board for this agent, its recent outcomes and the heuristics relevant to the goal."""
        check_text("agent", agent)
        check_text("goal", goal)
        previous = self.get_latest_handoff(agent)
        memories = self.recall.retrieve(goal, agent)
        outcomes = self.recall.list_memories(agent=agent, memory_type="outcome", limit=5).items
        session = SessionRecord(project_id=self.project_id, agent=agent, goal=goal)
        with store_errors():
            self.store.add("sessions", [session.to_row()])
        self.events.append("session", [(session.id, "start", agent, None, {"goal": goal}, None)])
        return SessionContext(
            session_id=session.id,
            agent=agent,
            goal=goal,
            project_id=self.project_id,
            started_at=session.started_at,
            previous_handoff=previous,
            progress=self.progress.get_progress_summary(agent=agent),
            recent_outcomes=list(outcomes),  # type: ignore[arg-type]
            relevant_heuristics=list(memories.heuristics),
            anti_patterns=list(memories.anti_patterns),
            memories=memories,
        )

    def get_session(self, session_id: str) -> SessionRecord:
        check_text("session_id", session_id)
        with store_errors():
            rows = self.store.get("sessions", [session_id])
        rows = [r for r in rows if r["project_id"] == self.project_id]
        if not rows:
            raise NotFoundError("session", session_id)
        return SessionRecord.from_row(rows[0])

    def _own_session(self, agent: str, session_id: str) -> SessionRecord:
        check_text("agent", agent)
        session = self.get_session(session_id)
        if session.agent != agent:
            raise ValidationError(
                "session_id", f"session {session_id!r} belongs to {session.agent!r}"
            )
        return session

    def update_session(
        self,
        agent: str,
        session_id: str,
        decision: str | None = None,
        blocker: str | None = None,
        active_file: str | None = None,
        resolved_blocker: str | None = None,
    ) -> SessionRecord:
        """Record a decision, a blocker (or its resolution) or a file being worked on."""
        session = self._own_session(agent, session_id)
        if session.status != "active":
            raise ValidationError("session_id", f"session {session_id!r} has already ended")
        before = session.to_row()
        if decision is not None:
            session.decisions.append(check_text("decision", decision))
        if blocker is not None:
            session.blockers.append(check_text("blocker", blocker))
        if active_file is not None and check_text("active_file", active_file) not in (
            session.active_files
        ):
            session.active_files.append(active_file)
        if resolved_blocker is not None:
            if resolved_blocker not in session.blockers:
                raise ValidationError("resolved_blocker", f"no blocker {resolved_blocker!r}")
            session.blockers.remove(resolved_blocker)
        session.updated_at = utcnow()
        with store_errors():
            self.store.upsert("sessions", [session.to_row()])
        self.events.append(
            "session", [(session.id, "update", agent, before, session.to_row(), None)]
        )
        return session

    def list_sessions(
        self, agent: str | None = None, *, status: str | None = None, limit: int = 20
    ) -> list[SessionRecord]:
        """Sessions, newest first."""
        where = self._scope(agent)
        if status is not None:
            where = st.And((where, st.Eq("status", check_text("status", status))))
        with store_errors():
            rows = self.store.scan(
                "sessions", where, order_by="started_at", descending=True, limit=_check_limit(limit)
            )
        return [SessionRecord.from_row(r) for r in rows]

    get_previous_sessions = list_sessions

    # ------------------------------------------------------------------ handoffs

    def create_handoff(
        self,
        agent: str,
        session_id: str,
        last_action: str,
        last_outcome: str,
        next_steps: Sequence[str] = (),
        key_decisions: Sequence[str] | None = None,
        blockers: Sequence[str] | None = None,
        test_status: dict[str, int] | None = None,
        confidence: float = 0.5,
        risk_flags: Sequence[str] | None = None,
        active_files: Sequence[str] | None = None,
    ) -> SessionHandoff:
        """End the session with a handoff. Decisions, blockers and files recorded during the
        session are merged with the ones given here. The handoff is embedded for search."""
        session = self._own_session(agent, session_id)
        if last_outcome not in LAST_OUTCOMES:
            raise ValidationError(
                "last_outcome", f"must be one of {LAST_OUTCOMES}, got {last_outcome!r}"
            )
        now = utcnow()
        handoff = SessionHandoff(
            project_id=self.project_id,
            agent=agent,
            session_id=session_id,
            goal=session.goal,
            last_action=check_text("last_action", last_action),
            last_outcome=last_outcome,
            key_decisions=_merge(
                session.decisions, check_text_list("key_decisions", key_decisions)
            ),
            blockers=_merge(session.blockers, check_text_list("blockers", blockers)),
            next_steps=check_text_list("next_steps", list(next_steps)),
            active_files=_merge(
                session.active_files, check_text_list("active_files", active_files)
            ),
            test_status=check_test_status(test_status),
            confidence=check_confidence(confidence),
            risk_flags=check_text_list("risk_flags", risk_flags),
            session_start=session.started_at,
            session_end=now,
            created_at=now,
        )
        session.status, session.ended_at, session.updated_at = "ended", now, now
        vector = self.context.embedder.embed([handoff.text()])[0]
        with store_errors():
            self.store.add("handoffs", [handoff.to_row(vector)])
            self.store.upsert("sessions", [session.to_row()])
        self.events.append(
            "handoff", [(handoff.id, "create", agent, None, handoff.as_dict(), None)]
        )
        return handoff

    def _handoffs(self, where: st.Filter, limit: int) -> list[SessionHandoff]:
        columns = [c for c in self.store.schema("handoffs").names if c != "vector"]
        with store_errors():
            rows = self.store.scan(
                "handoffs",
                where,
                columns=columns,
                order_by="created_at",
                descending=True,
                limit=limit,
            )
        return [SessionHandoff.from_row(r) for r in rows]

    def get_latest_handoff(self, agent: str) -> SessionHandoff | None:
        """The agent's most recent handoff, or None before its first one."""
        found = self._handoffs(self._scope(check_text("agent", agent)), 1)
        return found[0] if found else None

    def list_handoffs(self, agent: str | None = None, limit: int = 20) -> list[SessionHandoff]:
        """Handoffs, newest first."""
        return self._handoffs(self._scope(agent), _check_limit(limit))

    def get_quick_reload(self, agent: str) -> str:
        """A compact Markdown orientation for the agent's next session."""
        check_text("agent", agent)
        handoff = self.get_latest_handoff(agent)
        summary = self.progress.get_progress_summary(agent=agent)
        lines = [f"## Quick reload: {sanitize(agent)} ({sanitize(self.project_id)})"]
        lines.append(render_handoff(handoff) if handoff else "No previous session recorded.")
        board = [
            f"### Board: {summary.done}/{summary.total} done ({summary.completion_percentage}%)"
        ]
        if summary.current_item:
            board.append(f"- Current: {sanitize(summary.current_item.title)}")
        if summary.next_suggested:
            board.append(f"- Next: {sanitize(summary.next_suggested.title)}")
        for item in summary.blockers:
            board.append(f"- Blocked: {sanitize(item.title)}")
        lines.append("\n".join(board))
        return "\n\n".join(lines)

    def search_handoffs(
        self, query: str, agent: str | None = None, limit: int = 5
    ) -> list[SessionHandoff]:
        """Handoffs relevant to a query: vector and BM25 results fused as in memory search.

        Vector-only hits below the store's minimum similarity are dropped, so an unrelated
        query returns nothing rather than the nearest noise.
        """
        check_text("query", query)
        _check_limit(limit)
        where = self._scope(agent)
        depth = max(limit * 4, 20)
        columns = [c for c in self.store.schema("handoffs").names if c != "vector"]
        weights = self.context.settings.retrieval
        hits = hybrid.fetch(
            self.store,
            self.context.embedder,
            "handoffs",
            query,
            where,
            limit=depth,
            columns=columns,
            weights=weights,
        )
        scores = {i: scoring.relevance(c, hits.best_bm25, weights) for i, c in hits.merged.items()}
        found = []
        for handoff_id in sorted(scores, key=lambda i: -scores[i])[:limit]:
            handoff = SessionHandoff.from_row(hits.rows[handoff_id])
            handoff.score = scores[handoff_id]
            found.append(handoff)
        return found


def _merge(first: Sequence[str], second: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))
