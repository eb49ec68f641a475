"""ALMA: the one object every front end (library users, CLI, MCP server, dashboard) talks to.

Wiring and delegation only: the work is done by the memory service (alma_app.memory), the board
(alma_app.board) and the sessions (alma_app.sessions), each handed the CoreContext built here.
No core module imports this one.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from typing import Any

from alma_app.board.tracker import ProgressTracker
from alma_app.checks import check_limit, check_text
from alma_app.config import Settings, load_settings, settings_from_dict
from alma_app.context import CoreContext
from alma_app.decay import ConfidenceCurve
from alma_app.embeddings import Embedder
from alma_app.errors import ClosedError, ConfigError, store_errors
from alma_app.events import HUMAN
from alma_app.memory.editing import Editor
from alma_app.memory.forgetting import ArchivedMemory, ExpiringMemory, ForgetResult
from alma_app.memory.learning import LearnResult
from alma_app.memory.review import HistoryEvent
from alma_app.memory.search import SearchMode
from alma_app.memory.service import MemoryService
from alma_app.memory.types import DomainKnowledge, Memory, MemoryPage, MemorySlice, UserPreference
from alma_app.memory.writes import Contradiction
from alma_app.sessions.manager import SessionManager
from alma_app.values import utcnow


class ALMA:
    """Persistent, reviewable memory for agents.

    Build one with `ALMA.from_config(path)` or `ALMA(project_id=..., agents=..., ...)`.
    Raises AlmaError subclasses only; see alma_app.errors.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        **options: Any,
    ) -> None:
        if settings is not None and options:
            raise ConfigError("pass either a Settings object or keyword settings, not both")
        settings = settings or settings_from_dict(options, source="ALMA(...)")
        self.context = CoreContext.open(settings, embedder)
        self.settings, self.embedder = settings, self.context.embedder
        self.store = self.context.store
        self.memory = MemoryService(self.context)
        self.repo, self.searcher = self.memory.repo, self.memory.searcher
        self.learner, self.reviewer = self.memory.learner, self.memory.reviewer
        self.forgetter, self.writer = self.memory.forgetter, self.memory.writer
        self.usage, self.scope = self.memory.usage, self.memory.scope
        self.editor = Editor(self.repo, self.writer, self.reviewer, self.scope)
        self._progress: ProgressTracker | None = None
        self._sessions: SessionManager | None = None
        self._closed = False

    # ------------------------------------------------------------------ lifetime

    def __enter__(self) -> ALMA:
        self._check_open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush retrieval counts, finish background work and release the store; idempotent.

        Every later call raises ClosedError, and nothing under the store's location is written
        by this handle any more (a temporary directory holding the store can be removed)."""
        if self._closed:
            return
        self._closed = True
        self.usage.close()
        self.store.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError()

    @classmethod
    def from_config(
        cls, path: str | os.PathLike[str] = ".alma/config.yaml", *, embedder: Embedder | None = None
    ) -> ALMA:
        """Open the store described by a config file (see `alma init` for a commented one)."""
        return cls(load_settings(path), embedder=embedder)

    @property
    def project_id(self) -> str:
        return self.settings.project_id

    # ------------------------------------------------------------------ scope

    def check_scope(self, agent: str, category: str) -> None:
        """Raise ScopeViolation when the agent's config forbids learning this category."""
        self.scope.check_scope(agent, category)

    def visible_agents(self, agent: str) -> tuple[str, ...]:
        """The agent itself and every agent whose config shares its memories with it."""
        return self.scope.visible_agents(agent)

    # ------------------------------------------------------------------ retrieval

    def retrieve(
        self, task: str, agent: str, top_k: int = 5, user_id: str | None = None
    ) -> MemorySlice:
        """The memories most relevant to a task, up to top_k of each type, best first."""
        self._check_open()
        return self.memory.retrieve(task, agent, top_k, user_id)

    def search(
        self,
        query: str,
        *,
        agent: str | None = None,
        memory_type: str | None = None,
        status: str | None = None,
        limit: int = 20,
        mode: SearchMode = "hybrid",
    ) -> list[Memory]:
        """Hybrid search for humans: any status unless given, each hit with its score breakdown."""
        return self.memory.search(query, agent, memory_type, status, limit, mode)

    # ------------------------------------------------------------------ adding

    def add_preference(
        self, user_id: str, category: str, preference: str, source: str = "explicit_instruction"
    ) -> UserPreference:
        """Remember a user's preference; every agent working for that user will see it.

        Compared with the user's most similar preference (alma_app.memory.writes): a restatement
        reinforces and returns that one (metadata["reinforcements"] counts such writes); a
        changed value is stored and supersedes it; a negation is stored and flagged as a
        possible contradiction. The returned memory's write_result says which happened.
        """
        self._check_open()
        return self.editor.add_preference(user_id, category, preference, source)

    add_user_preference = add_preference  # the original's name

    def add_domain_knowledge(
        self, agent: str, domain: str, fact: str, source: str = "user", confidence: float = 1.0
    ) -> DomainKnowledge:
        """Remember a fact for an agent; the domain must be within the agent's scope.

        Compared with the agent's most similar fact (alma_app.memory.writes): a restatement
        reinforces and returns that one (metadata["reinforcements"] counts such writes; a new
        memory has no such key); a changed value ("12 seconds" -> "47 seconds") is stored and
        supersedes it (ranks above it; both stay retrievable); a negation is stored and flagged
        as a possible contradiction for review. The returned memory's write_result says which
        happened.
        """
        self._check_open()
        return self.editor.add_domain_knowledge(agent, domain, fact, source, confidence)

    def add_memories(self, memories: list[Memory], *, actor: str = HUMAN) -> int:
        """Store already-built memories in one batch (import, sample data). Returns the count."""
        return self.editor.add_memories(memories, actor)

    # ------------------------------------------------------------------ managing

    def get_memory(self, memory_id: str) -> Memory:
        """One memory by id, with its effective confidence; raises MemoryNotFound."""
        return self.editor.get_memory(memory_id)

    def get_memories(self, memory_ids: list[str]) -> list[Memory]:
        """The memories that exist among the ids, in the order given (missing ones skipped)."""
        return self.editor.get_memories(memory_ids)

    def list_memories(
        self,
        *,
        agent: str | None = None,
        memory_type: str | None = None,
        status: str | None = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        text: str | None = None,
        limit: int = 50,
        offset: int = 0,
        order_by: str = "created_at",
        descending: bool = True,
    ) -> MemoryPage:
        """A filtered page of memories and the total that match (for browsing, not ranking)."""
        arguments = {name: value for name, value in locals().items() if name != "self"}
        return self.memory.list_memories(**arguments)

    def update_memory(
        self,
        memory_id: str,
        *,
        actor: str = HUMAN,
        reason: str | None = None,
        expected_version: int | None = None,
        **changes: Any,
    ) -> Memory:
        """Change fields of a memory (re-embedding when its text changes); logged as an edit.

        The given fields are set on the latest version: if another caller changed the memory
        meanwhile, its change stays and these fields are set on top. Pass expected_version
        (memory.version as read) to get ConflictError instead when the memory has moved on.
        """
        self._check_open()
        return self.editor.update_memory(
            memory_id, changes, actor=actor, reason=reason, expected_version=expected_version
        )

    def delete_memories(
        self, memory_ids: list[str], *, actor: str = HUMAN, reason: str | None = None
    ) -> int:
        """Delete memories (kept in the archive, restorable). Returns how many were deleted."""
        return self.editor.delete_memories(memory_ids, actor, reason)

    def delete_memory(
        self, memory_id: str, *, actor: str = HUMAN, reason: str | None = None
    ) -> None:
        """Delete one memory; raises MemoryNotFound when there is none."""
        self.get_memory(memory_id)
        self.delete_memories([memory_id], actor=actor, reason=reason)

    def stats(self, agent: str | None = None) -> dict[str, Any]:
        """Counts of memories by type, agent and status (computed by DuckDB over the store)."""
        return self.memory.stats(agent)

    # ------------------------------------------------------------------ learning

    def learn(
        self,
        agent: str,
        task: str,
        outcome: str,
        strategy_used: str,
        feedback: str | None = None,
        task_type: str | None = None,
        duration_ms: int | None = None,
        error_message: str | None = None,
    ) -> LearnResult:
        """Record a task's outcome ("success" or "failure") and learn from it.

        The task type is the given one or the agent's most similar category (else "general");
        a type outside the agent's scope raises ScopeViolation and nothing is stored. Similar
        successes form or reinforce one heuristic, similar failures one anti-pattern; see
        alma_app.memory.learning for the rules.
        """
        self.scope.check_agent(agent)
        return self.learner.learn(
            agent,
            task,
            outcome,
            strategy_used,
            feedback=feedback,
            task_type=task_type,
            duration_ms=duration_ms,
            error_message=error_message,
        )

    # ------------------------------------------------------------------ review and history

    def approve(self, memory_ids: list[str], reviewer: str) -> list[Memory]:
        """Approve memories in one commit; returns those whose status changed."""
        return self.reviewer.set_status(memory_ids, "approved", reviewer)

    def reject(self, memory_ids: list[str], reviewer: str, reason: str) -> list[Memory]:
        """Reject memories (never retrieved again) in one commit; returns those changed."""
        return self.reviewer.set_status(
            memory_ids, "rejected", reviewer, check_text("reason", reason)
        )

    def edit_and_approve(
        self,
        memory_id: str,
        reviewer: str,
        *,
        expected_version: int | None = None,
        **changes: Any,
    ) -> Memory:
        """Apply a reviewer's edits and approve the memory, logged as one approve event.

        expected_version: as in update_memory (ConflictError if the memory moved on)."""
        return self.reviewer.edit_and_approve(memory_id, reviewer, changes, expected_version)

    def contradictions(self, agent: str | None = None, limit: int = 50) -> list[Contradiction]:
        """Pairs of memories flagged as possible contradictions by a write, not yet resolved."""
        check_limit("limit", limit, 1, 1000)
        return self.writer.contradictions(agent, limit)

    def resolve_contradiction(
        self,
        memory_id: str,
        other_id: str,
        reviewer: str,
        *,
        reject: str | None = None,
        reason: str | None = None,
    ) -> list[Memory]:
        """Settle a flagged pair: keep both (reject=None) or reject one of the two.

        The flag is cleared on both (each keeps the other's id under
        metadata["reviewed_contradictions"]); a rejected one is never retrieved again. Raises
        ValidationError when the two are not flagged together or `reject` is neither of them.
        Returns the memories as they now are.
        """
        return self.editor.resolve_contradiction(memory_id, other_id, reviewer, reject, reason)

    def validate(self, memory_id: str, actor: str = HUMAN) -> Memory:
        """Confirm a memory: its decay clock restarts; its stored confidence is unchanged."""
        return self.reviewer.validate(memory_id, actor)

    def history(self, memory_id: str) -> list[HistoryEvent]:
        """Every change of a memory, oldest first, with actor, time and before/after values."""
        return self.reviewer.history(memory_id)

    def revert(self, memory_id: str, event_id: str, actor: str = HUMAN) -> Memory:
        """Restore the version a history event recorded (re-embedded if its text differs)."""
        return self.reviewer.revert(memory_id, event_id, actor)

    # ------------------------------------------------------------------ decay and forgetting

    def forget(
        self,
        agent: str | None = None,
        older_than_days: float = 90,
        min_confidence: float | None = None,
        dry_run: bool = False,
        below_confidence: float | None = None,
        *,
        actor: str = "system",
    ) -> ForgetResult:
        """Archive memories whose effective confidence is below min_confidence (default: the
        decay.forget_threshold setting, 0.3) or that are stale and low-value (see alma_app.decay).
        dry_run lists them without removing anything; below_confidence is the original's name."""
        return self.forgetter.forget(
            agent, older_than_days, min_confidence, dry_run, below_confidence, actor
        )

    def restore(self, memory_ids: list[str], actor: str = HUMAN) -> list[Memory]:
        """Bring archived (forgotten or deleted) memories back, re-embedded."""
        return self.forgetter.restore(memory_ids, actor)

    def list_archived(self, agent: str | None = None, limit: int = 100) -> list[ArchivedMemory]:
        """Archived memories, most recently archived first."""
        return self.forgetter.list_archived(agent, limit)

    def confidence_curve(
        self,
        memory_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        points: int = 60,
    ) -> ConfidenceCurve:
        """A memory's effective confidence over time and when it crosses the forget threshold."""
        return self.forgetter.confidence_curve(self.get_memory(memory_id), start, end, points)

    def expiring(self, within_days: float = 30, agent: str | None = None) -> list[ExpiringMemory]:
        """Memories that will fall below the forget threshold within N days, soonest first."""
        return self.forgetter.expiring(within_days, agent)

    # ------------------------------------------------------------------ progress and sessions

    @property
    def progress(self) -> ProgressTracker:
        """Work items of this project, in this store (the dashboard's kanban board)."""
        if self._progress is None:
            self._progress = ProgressTracker(self.project_id, alma=self)
        return self._progress

    @property
    def sessions(self) -> SessionManager:
        """Sessions and handoffs of this project, in this store."""
        if self._sessions is None:
            self._sessions = SessionManager(self.project_id, alma=self)
        return self._sessions

    def compact(self) -> None:
        """Merge small fragments, refresh indexes and drop old versions of every table."""
        with store_errors():
            self.store.compact()

    def now(self) -> datetime:
        return utcnow()

    def with_settings(self, **changes: Any) -> ALMA:
        """A new handle on the same store with some settings changed (tests, tools)."""
        self._check_open()
        return ALMA(replace(self.settings, **changes), embedder=self.embedder)
