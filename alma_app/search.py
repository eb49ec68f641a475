"""HybridSearch: one vector search and one BM25 search in the store, fused and scored.

Used by ALMA.retrieve (agents) and ALMA.search (the dashboard's search box), so humans see
exactly the ranking agents get.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal

import store as st
from alma_app import context_boost, links, retrieval
from alma_app.config import RetrievalWeights
from alma_app.memories import MemoryRepository, store_errors
from alma_app.records import HIT_COLUMNS
from alma_app.types import Memory, utcnow

SearchMode = Literal["hybrid", "vector", "lexical"]
MODES = ("hybrid", "vector", "lexical")
LEXICAL_OVERFETCH = 3

# The lexical search runs beside the query embedding and vector search: both wait in native
# code (LanceDB, torch) with the GIL released, so retrieve costs max(), not sum().
_LEXICAL_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="alma-bm25")


def success_signal(memory: Memory) -> float:
    """How well a heuristic's advice has worked, in [0, 1]; 0.5 (neutral) for other types."""
    if memory.TYPE == "heuristic":
        return memory.success_rate if memory.occurrence_count else 0.5  # type: ignore[attr-defined]
    # Outcomes are records, not advice: a failure on a similar task is as worth seeing as a
    # success, so they compete on relevance alone.
    return 0.5


class HybridSearch:
    def __init__(self, repo: MemoryRepository) -> None:
        self.repo = repo

    def search(
        self,
        query: str,
        where: st.Filter | None,
        *,
        limit: int,
        mode: SearchMode = "hybrid",
    ) -> list[Memory]:
        """Memories matching `where`, best first, each with its score breakdown."""
        weights = self.repo.settings.retrieval
        candidates = max(weights.candidates, limit)
        columns = HIT_COLUMNS
        vector_rows: list[dict] = []
        text_rows: list[dict] = []
        pending: Future[list[dict]] | None = None
        with store_errors():
            if mode in ("hybrid", "lexical"):
                pending = _LEXICAL_POOL.submit(
                    self.repo.store.text_search,
                    "memories",
                    query,
                    where=where,
                    # The filter applies after BM25 ranks the whole table (half the cost at
                    # 100k memories); over-fetching keeps enough of this agent's matches, and
                    # weak lexical matches barely count anyway. Vector search stays prefiltered.
                    limit=candidates * LEXICAL_OVERFETCH,
                    columns=columns,
                    prefilter=False,
                )
            try:
                if mode in ("hybrid", "vector"):
                    vector = self.repo.embedder.embed([query])[0]
                    vector_rows = self.repo.store.vector_search(
                        "memories", vector, where=where, limit=candidates, columns=columns
                    )
            finally:
                if pending is not None:
                    text_rows = pending.result()
        rows = {r["id"]: r for r in text_rows}
        rows.update({r["id"]: r for r in vector_rows})
        merged = retrieval.merge_hits(
            [(r["id"], r["_distance"]) for r in vector_rows],
            [(r["id"], r["_score"]) for r in text_rows],
            min_similarity=weights.min_similarity if mode == "hybrid" else -1.0,
            vector_limit=candidates,
        )
        best_bm25 = max((r["_score"] for r in text_rows), default=0.0)
        # Neighbouring context is part of the hybrid ranking; the single modes show one search.
        context = weights.context_weight if mode == "hybrid" else 0.0
        relevance = contextual_relevance(merged, rows, best_bm25, weights, context)
        now = utcnow()
        scored: list[Memory] = []
        for memory_id, cand in merged.items():
            memory = self.repo.hydrate(rows[memory_id], now)
            memory.score = retrieval.score(
                cand,
                best_bm25=best_bm25,
                relevance_value=relevance[memory_id],
                recency_value=retrieval.recency(memory.clock, now, weights.recency_half_life_days),
                success_value=success_signal(memory),
                confidence_value=memory.effective_confidence or 0.0,
                weights=weights,
                penalty=retrieval.SUPERSEDED_FACTOR if links.superseded_by(memory) else 1.0,
            )
            scored.append(memory)
        scored.sort(key=lambda m: m.score.total if m.score else 0.0, reverse=True)
        return scored[:limit] if limit else scored


def contextual_relevance(
    merged: dict[str, retrieval.Candidate],
    rows: dict[str, dict],
    best_bm25: float,
    weights: RetrievalWeights,
    context_weight: float,
) -> dict[str, float]:
    """Each candidate's fused relevance, raised by its neighbours' (alma_app/context_boost.py).

    Only memories with an agent have neighbours: a user's preferences are not a sequence."""
    relevance = {k: retrieval.relevance(c, best_bm25, weights) for k, c in merged.items()}
    if context_weight <= 0:
        return relevance
    written: list[context_boost.Written] = []
    for memory_id in merged:
        row = rows[memory_id]
        owner, at = row.get("agent"), row.get("created_at")
        if owner and at is not None:
            written.append(context_boost.Written(owner, at, memory_id))
    return context_boost.boost(
        relevance, written, weight=context_weight, window_s=weights.context_window_s
    )
