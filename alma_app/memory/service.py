"""MemoryService: the memory package wired together on a CoreContext.

ALMA delegates its memory calls here; a SessionManager opened without an ALMA handle starts its
sessions with one. Building it repairs the create events a crash may have lost (consistency.py).
"""

from __future__ import annotations

from typing import Any

import alma_store as st
from alma_app.checks import check_bool, check_int, check_limit, check_text
from alma_app.context import CoreContext
from alma_app.embeddings import Embedder
from alma_app.errors import ValidationError
from alma_app.memory.consistency import repair_events
from alma_app.memory.filters import memory_filter, memory_stats
from alma_app.memory.forgetting import Forgetter
from alma_app.memory.learning import Learner
from alma_app.memory.repository import MemoryRepository
from alma_app.memory.retrieve import Retriever
from alma_app.memory.review import Reviewer
from alma_app.memory.scope import Scope
from alma_app.memory.search import MODES, HybridSearch, SearchMode
from alma_app.memory.types import Memory, MemoryPage, MemorySlice
from alma_app.memory.usage import UsageRecorder
from alma_app.memory.writes import Writer


class MemoryService:
    def __init__(self, context: CoreContext) -> None:
        self.context = context
        self.scope = Scope(context.settings)
        self.repo = MemoryRepository(
            context.store, context.embedder, context.settings, context.events
        )
        self.searcher = HybridSearch(self.repo)
        self.learner = Learner(self.repo, self.scope.check_scope)
        self.reviewer = Reviewer(self.repo)
        self.forgetter = Forgetter(self.repo)
        self.writer = Writer(self.repo)
        self.usage = UsageRecorder(context.events)
        self.retriever = Retriever(self.repo, self.searcher, self.learner, self.scope, self.usage)
        repair_events(self.repo)

    @property
    def project_id(self) -> str:
        return self.context.project_id

    @property
    def embedder(self) -> Embedder:
        return self.context.embedder

    def retrieve(
        self, task: str, agent: str, top_k: int = 5, user_id: str | None = None
    ) -> MemorySlice:
        """The memories most relevant to a task, up to top_k of each type, best first."""
        return self.retriever.retrieve(task, agent, top_k, user_id)

    def search(
        self,
        query: str,
        agent: str | None,
        memory_type: str | None,
        status: str | None,
        limit: int,
        mode: SearchMode,
    ) -> list[Memory]:
        """Hybrid search for humans: any status unless given, each hit with its breakdown."""
        check_text("query", query)
        if mode not in MODES:
            raise ValidationError("mode", f"must be one of {MODES}, got {mode!r}")
        check_limit("limit", limit, 1, 1000)
        where = memory_filter(agent=agent, memory_type=memory_type, status=status)
        where = st.all_of(st.Eq("project_id", self.context.project_id), where)
        return self.searcher.search(query, where, limit=limit, mode=mode)

    def stats(self, agent: str | None = None) -> dict[str, Any]:
        """Counts of memories by type, agent and status (one DuckDB GROUP BY)."""
        if agent is not None:
            check_text("agent", agent)
        return memory_stats(self.context.store, self.context.project_id, agent)

    def list_memories(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        order_by: str = "created_at",
        descending: bool = True,
        **filters: Any,
    ) -> MemoryPage:
        """A filtered page of memories (filters: alma_app.memory.filters.memory_filter's
        arguments) and the total that match; for browsing, not ranking."""
        check_int("limit", limit, low=1, high=10_000)
        check_int("offset", offset, low=0)
        check_bool("descending", descending)
        where = memory_filter(**filters)
        return self.repo.find(
            where, limit=limit, offset=offset, order_by=order_by, descending=descending
        )
