"""ALMA: the one object every front end (library users, CLI, MCP server, dashboard) talks to."""

from __future__ import annotations

import copy
import os
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime
from typing import Any

import store as st
from alma_app.board.tracker import ProgressTracker
from alma_app.checks import check_bool, check_ids, check_int
from alma_app.config import Settings, load_settings, settings_from_dict
from alma_app.decay import ConfidenceCurve
from alma_app.embeddings import Embedder, make_embedder
from alma_app.errors import ClosedError, ConfigError, ConflictError, ScopeViolation, ValidationError
from alma_app.memory.consistency import repair_events
from alma_app.memory.filters import memory_filter, memory_stats
from alma_app.memory.focus import ADVICE_TYPES, focused, task_type_of
from alma_app.memory.forgetting import ArchivedMemory, ExpiringMemory, ForgetResult, Forgetter
from alma_app.memory.learning import Learner, LearnResult
from alma_app.memory.repository import (
    RETRIES,
    MemoryRepository,
    check_confidence,
    check_text,
    store_errors,
)
from alma_app.memory.review import HistoryEvent, Reviewer, apply_changes
from alma_app.memory.search import MODES, HybridSearch, SearchMode
from alma_app.memory.types import (
    MEMORY_TYPES,
    DomainKnowledge,
    Memory,
    MemoryPage,
    MemorySlice,
    UserPreference,
    utcnow,
)
from alma_app.memory.usage import UsageRecorder
from alma_app.memory.writes import Contradiction, M, Writer
from alma_app.sessions.manager import SessionManager

_SLICE_FIELDS = {
    "heuristic": "heuristics",
    "outcome": "outcomes",
    "preference": "preferences",
    "domain_knowledge": "domain_knowledge",
    "anti_pattern": "anti_patterns",
}
HUMAN = "human"


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
        self.settings = settings or settings_from_dict(options, source="ALMA(...)")
        self.embedder = embedder or make_embedder(
            self.settings.embedding,
            self.settings.embedding_precision,
            self.settings.embedding_backend,
        )
        try:
            self.store = st.open_store(
                self.settings.store_uri,
                vector_dim=self.embedder.dim,
                storage_options=self.settings.storage_options or None,
                compact_every=self.settings.compact_every,
                mirror=self.settings.search_mirror,
            )
        except st.StoreError as exc:
            raise ConfigError(str(exc), path=self.settings.config_path, key="storage_dir") from exc
        self.repo = MemoryRepository(self.store, self.embedder, self.settings)
        self.searcher = HybridSearch(self.repo)
        self.learner = Learner(self.repo, self.check_scope)
        self.reviewer = Reviewer(self.repo)
        self.forgetter = Forgetter(self.repo)
        self.writer = Writer(self.repo)
        self._cache: OrderedDict[tuple, MemorySlice] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._progress: ProgressTracker | None = None
        self.usage = UsageRecorder(self.store, self.settings.project_id)
        self._sessions: SessionManager | None = None
        self._closed = False
        repair_events(self.repo)

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

    def _check_agent(self, agent: Any, argument: str = "agent") -> str:
        check_text(argument, agent)
        if self.settings.strict_agents and agent not in self.settings.agents:
            raise ScopeViolation(agent, "*", "strict_agents is on and the agent is not configured")
        return agent

    def check_scope(self, agent: str, category: str) -> None:
        """Raise ScopeViolation when the agent's config forbids learning this category."""
        scope = self.settings.agent(agent)
        if scope is None:
            if self.settings.strict_agents:
                raise ScopeViolation(
                    agent, category, "strict_agents is on and the agent is not configured"
                )
            return
        if category in scope.cannot_learn:
            raise ScopeViolation(
                agent, category, f"it is listed in cannot_learn {list(scope.cannot_learn)}"
            )
        if scope.can_learn and category not in scope.can_learn:
            raise ScopeViolation(
                agent, category, f"can_learn is {list(scope.can_learn)} and does not include it"
            )

    def visible_agents(self, agent: str) -> tuple[str, ...]:
        """The agent itself and every agent whose config shares its memories with it."""
        sharers = [name for name, s in self.settings.agents.items() if agent in s.share_with]
        return (agent, *sharers)

    def _visibility(self, agent: str, user_id: str | None) -> st.Filter:
        own = st.And(
            (
                st.In("type", tuple(t for t in MEMORY_TYPES if t != "preference")),
                st.Or(
                    (st.In("agent", self.visible_agents(agent)), st.HasAny("shared_with", (agent,)))
                ),
            )
        )
        parts: list[st.Filter] = [own]
        if user_id is not None:
            parts.append(st.And((st.Eq("type", "preference"), st.Eq("user_id", user_id))))
        return st.And(
            (
                st.Eq("project_id", self.project_id),
                st.Eq("status", "approved"),
                st.Or(tuple(parts)) if len(parts) > 1 else own,
            )
        )

    # ------------------------------------------------------------------ retrieval

    def retrieve(
        self, task: str, agent: str, top_k: int = 5, user_id: str | None = None
    ) -> MemorySlice:
        """The memories most relevant to a task, up to top_k of each type, best first."""
        started = time.perf_counter()
        self._check_open()
        check_text("task", task)
        self._check_agent(agent)
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 100:
            raise ValidationError("top_k", f"must be an integer from 1 to 100, got {top_k!r}")
        if user_id is not None:
            check_text("user_id", user_id)
        with store_errors():
            version = self.store.version("memories")
        key = (version, task, agent, top_k, user_id)
        with self._cache_lock:
            cached = self._cache.get(key)
        if cached is not None:
            result = _copy_slice(cached)
        else:
            where = self._visibility(agent, user_id)
            hits = self.searcher.search(task, where, limit=0, per_type=top_k)
            kind = task_type_of(task, hits, agent, self.learner.vectors)
            if kind is not None:  # the task type's advice, even where outcomes crowd it out
                only = st.And((where, st.In("type", ADVICE_TYPES), st.Eq("category", kind)))
                advice = self.searcher.search(task, only, limit=2 * top_k)
                hits = focused(hits, advice, agent, kind)
            result = MemorySlice(query=task, agent=agent, user_id=user_id)
            for memory in hits:
                bucket = getattr(result, _SLICE_FIELDS[memory.TYPE])
                if len(bucket) < top_k:
                    bucket.append(memory)
            with self._cache_lock:
                self._cache[key] = result
                while len(self._cache) > 512:
                    self._cache.popitem(last=False)
            result = _copy_slice(result)
        self.usage.record(agent, [m.id for m in result.all()])
        result.retrieval_time_ms = (time.perf_counter() - started) * 1000
        return result

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
        check_text("query", query)
        if mode not in MODES:
            raise ValidationError("mode", f"must be one of {MODES}, got {mode!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise ValidationError("limit", f"must be an integer from 1 to 1000, got {limit!r}")
        where = memory_filter(agent=agent, memory_type=memory_type, status=status)
        where = st.all_of(st.Eq("project_id", self.project_id), where)
        return self.searcher.search(query, where, limit=limit, mode=mode)

    # ------------------------------------------------------------------ adding

    def add_preference(
        self, user_id: str, category: str, preference: str, source: str = "explicit_instruction"
    ) -> UserPreference:
        """Remember a user's preference; every agent working for that user will see it.

        Compared with the user's most similar preference (alma_app.writes): a restatement
        reinforces and returns that one (metadata["reinforcements"] counts such writes); a
        changed value is stored and supersedes it; a negation is stored and flagged as a
        possible contradiction. The returned memory's write_result says which happened.
        """
        memory = UserPreference(
            user_id=check_text("user_id", user_id),
            category=check_text("category", category),
            preference=check_text("preference", preference),
            source=check_text("source", source),
            project_id=self.project_id,
            status="approved",
        )
        actor = HUMAN if source != "agent" else user_id
        return self._add_once(memory, st.Eq("user_id", user_id), actor, ("user", user_id))

    add_user_preference = add_preference  # the original's name

    def add_domain_knowledge(
        self, agent: str, domain: str, fact: str, source: str = "user", confidence: float = 1.0
    ) -> DomainKnowledge:
        """Remember a fact for an agent; the domain must be within the agent's scope.

        Compared with the agent's most similar fact (alma_app.writes): a restatement reinforces
        and returns that one (metadata["reinforcements"] counts such writes; a new memory has no
        such key); a changed value ("12 seconds" -> "47 seconds") is stored and supersedes it
        (ranks above it; both stay retrievable); a negation is stored and flagged as a possible
        contradiction for review. The returned memory's write_result says which happened.
        """
        self._check_agent(agent)
        check_text("domain", domain)
        self.check_scope(agent, domain)
        memory = DomainKnowledge(
            agent=agent,
            domain=domain,
            fact=check_text("fact", fact),
            source=check_text("source", source),
            confidence=check_confidence(confidence),
            project_id=self.project_id,
            status="approved",
        )
        actor = HUMAN if source == "user" else agent
        return self._add_once(memory, st.Eq("agent", agent), actor, ("agent", agent))

    def _add_once(self, memory: M, owner: st.Filter, actor: str, key: tuple[str, str]) -> M:
        """Writer.remember, one writer at a time per owner and type (across processes), so
        the same fact written twice at the same instant is stored once; a reinforcement that
        lost a race with a reviewer's write is simply run again on the fresh memory (remember
        raises ConflictError only before it has written anything)."""
        self._check_open()
        for _ in range(RETRIES):
            with self.repo.writing("add", memory.TYPE, *key):
                try:
                    return self.writer.remember(memory, owner, actor)
                except ConflictError:
                    continue
        raise ConflictError([memory.id], f"its near-duplicate kept changing ({RETRIES} tries)")

    def add_memories(self, memories: list[Memory], *, actor: str = HUMAN) -> int:
        """Store already-built memories in one batch (import, sample data). Returns the count."""
        if not isinstance(memories, list) or not all(isinstance(m, Memory) for m in memories):
            raise ValidationError("memories", "expected a list of Memory objects")
        self.repo.insert(memories, actor=actor)
        return len(memories)

    # ------------------------------------------------------------------ managing

    def get_memory(self, memory_id: str) -> Memory:
        """One memory by id, with its effective confidence; raises MemoryNotFound."""
        memory = self.repo.get(memory_id)
        if memory.project_id != self.project_id:
            from alma_app.errors import MemoryNotFound

            raise MemoryNotFound(memory_id)
        return memory

    def get_memories(self, memory_ids: list[str]) -> list[Memory]:
        """The memories that exist among the ids, in the order given (missing ones skipped)."""
        check_ids("memory_ids", memory_ids)
        return [m for m in self.repo.get_many(memory_ids) if m.project_id == self.project_id]

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
        check_int("limit", limit, low=1, high=10_000)
        check_int("offset", offset, low=0)
        check_bool("descending", descending)
        where = memory_filter(
            agent=agent,
            memory_type=memory_type,
            status=status,
            min_confidence=min_confidence,
            max_confidence=max_confidence,
            created_from=created_from,
            created_to=created_to,
            text=text,
        )
        return self.repo.find(
            where, limit=limit, offset=offset, order_by=order_by, descending=descending
        )

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
        before = self.get_memory(memory_id)
        apply_changes(before, changes, self.repo.copy(before))  # bad edits fail before I/O
        return self.repo.update(
            memory_id,
            lambda memory: apply_changes(memory, changes, memory),
            actor=actor,
            action="edit",
            reason=reason,
            expected_version=expected_version,
        )

    def delete_memories(
        self, memory_ids: list[str], *, actor: str = HUMAN, reason: str | None = None
    ) -> int:
        """Delete memories (kept in the archive, restorable). Returns how many were deleted."""
        if isinstance(memory_ids, str):
            memory_ids = [memory_ids]
        for memory_id in memory_ids:
            check_text("memory_ids", memory_id)
        for _ in range(RETRIES):  # a memory changed meanwhile: archive its new version
            found = [m for m in self.repo.get_many(memory_ids) if m.project_id == self.project_id]
            try:
                self.repo.archive_and_delete(found, actor=actor, action="delete", reason=reason)
            except ConflictError:
                continue
            return len(found)
        raise ConflictError(list(memory_ids), f"kept changing through {RETRIES} attempts")

    def delete_memory(
        self, memory_id: str, *, actor: str = HUMAN, reason: str | None = None
    ) -> None:
        """Delete one memory; raises MemoryNotFound when there is none."""
        self.get_memory(memory_id)
        self.delete_memories([memory_id], actor=actor, reason=reason)

    def stats(self, agent: str | None = None) -> dict[str, Any]:
        """Counts of memories by type, agent and status (computed by DuckDB over the store)."""
        if agent is not None:
            check_text("agent", agent)
        return memory_stats(self.store, self.project_id, agent)

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
        alma_app.learning for the rules.
        """
        self._check_agent(agent)
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
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise ValidationError("limit", f"must be an integer from 1 to 1000, got {limit!r}")
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
        check_text("memory_id", memory_id)
        check_text("other_id", other_id)
        if reject is not None and reject not in (memory_id, other_id):
            raise ValidationError("reject", "must be one of the two memories' ids, or None")
        resolved = self.writer.resolve(memory_id, other_id, check_text("reviewer", reviewer))
        if reject is None:
            return resolved
        kept = other_id if reject == memory_id else memory_id
        self.reject([reject], reviewer, reason or f"contradicted by {kept}")
        return self.get_memories([memory_id, other_id])

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


def _copy_slice(cached: MemorySlice) -> MemorySlice:
    """A copy of a cached slice that shares nothing mutable with it: callers may edit it."""
    lists = {name: copy.deepcopy(getattr(cached, name)) for name in _SLICE_FIELDS.values()}
    return replace(cached, **lists)
