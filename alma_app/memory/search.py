"""HybridSearch: one vector search and one BM25 search in the store, fused and scored.

Used by ALMA.retrieve (agents) and ALMA.search (the dashboard's search box), so humans see
exactly the ranking agents get.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import alma_store as st
from alma_app import decay
from alma_app.config import RetrievalWeights
from alma_app.memory import context_boost, hybrid, links, scoring
from alma_app.memory.records import HIT_COLUMNS, _utc
from alma_app.memory.repository import MemoryRepository
from alma_app.memory.types import Memory, ScoreBreakdown, utcnow

SearchMode = Literal["hybrid", "vector", "lexical"]
MODES = ("hybrid", "vector", "lexical")


def success_signal(memory: Memory | _Candidate) -> float:
    """How well a heuristic's advice has worked, in [0, 1]; 0.5 (neutral) for other types."""
    if memory.TYPE == "heuristic":
        return memory.success_rate if memory.occurrence_count else 0.5  # type: ignore[attr-defined]
    # Outcomes are records, not advice: a failure on a similar task is as worth seeing as a
    # success, so they compete on relevance alone.
    return 0.5


# The candidates' rows carry the columns the score reads, so only the memories returned are
# hydrated (JSON-decoded into Memory objects): ~10 of ~150 candidates per retrieve.
SCORE_COLUMNS = [*HIT_COLUMNS, "confidence", "validated_at"]


@dataclass(slots=True)
class _Candidate:
    """What the score reads of a candidate row, without building its Memory."""

    row: dict[str, Any]
    TYPE: str
    clock: datetime
    effective_confidence: float
    success_rate: float = 0.0
    occurrence_count: int = 0
    superseded: bool = False
    score: ScoreBreakdown | None = None

    @classmethod
    def scored(
        cls,
        row: dict[str, Any],
        now: datetime,
        repo: MemoryRepository,
        lives: dict[str, float],
        relevance: float,
        weights: RetrievalWeights,
    ) -> tuple[_Candidate, float]:
        """The view and its total (scoring.total of its parts), with the candidate's age
        computed once for its decay and its recency: a search scores ~120 candidates."""
        kind = row["type"]
        clock = row["validated_at"]
        if clock.tzinfo is not UTC:  # the mirror's rows already carry UTC
            clock = _utc(clock)
        half_life = lives.get(kind)
        if half_life is None:
            half_life = lives[kind] = repo.settings.decay.half_life(kind)
        age_days = (now - clock).total_seconds() / 86400.0
        kept = decay.decay_factor(age_days, half_life)  # decay.effective_confidence's
        view = cls(row, kind, clock, float(row["confidence"]) * kept)
        view.superseded = links.row_is_superseded(row.get("metadata"))
        if kind == "heuristic":  # its success counts live in the payload
            view.occurrence_count, successes = _counts(row.get("payload") or "{}")
            view.success_rate = successes / view.occurrence_count if view.occurrence_count else 0.0
        recency = scoring.recency_of_age(age_days, weights.recency_half_life_days)
        penalty = scoring.SUPERSEDED_FACTOR if view.superseded else 1.0
        confidence = view.effective_confidence or 0.0
        value = scoring.total(
            relevance, recency, success_signal(view), confidence, weights, penalty
        )
        return view, value


_COUNTS: dict[str, tuple[int, int]] = {}
_COUNTS_KEPT = 50_000


def _counts(payload: str) -> tuple[int, int]:
    """A heuristic's (occurrence_count, success_count), decoded once per payload text: the
    mirror hands out the same string objects search after search, and a retrieve at 100k
    memories meets ~90 heuristic candidates (json.loads of each was ~1.5 ms of it)."""
    hit = _COUNTS.get(payload)
    if hit is None:
        decoded = json.loads(payload)
        hit = (
            int(decoded.get("occurrence_count") or 0),
            int(decoded.get("success_count") or 0),
        )
        if len(_COUNTS) >= _COUNTS_KEPT:
            _COUNTS.clear()  # simpler than LRU; refilled by the next searches
        _COUNTS[payload] = hit
    return hit


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
        per_type: int = 0,
    ) -> list[Memory]:
        """Memories matching `where`, best first, each with its score breakdown; at most
        `per_type` of each memory type when given (retrieve's top_k)."""
        weights = self.repo.settings.retrieval
        candidates = max(weights.candidates, limit)
        hits = hybrid.fetch(
            self.repo.store,
            self.repo.embedder,
            "memories",
            query,
            where,
            limit=candidates,
            columns=SCORE_COLUMNS,
            weights=weights,
            mode=mode,
            preceding=preceding(weights) if mode == "hybrid" else None,
        )
        rows, merged, best_bm25 = hits.rows, hits.merged, hits.best_bm25
        # Neighbouring context is part of the hybrid ranking; the single modes show one search.
        context = weights.context_weight if mode == "hybrid" else 0.0
        relevance = contextual_relevance(merged, rows, best_bm25, weights, context)
        now = utcnow()
        half_lives: dict[str, float] = {}
        scored: list[tuple[float, int, _Candidate, scoring.Candidate]] = []
        for position, (memory_id, cand) in enumerate(merged.items()):
            memory, value = _Candidate.scored(
                rows[memory_id], now, self.repo, half_lives, relevance[memory_id], weights
            )
            scored.append((-value, position, memory, cand))
        scored.sort(key=lambda entry: entry[:2])  # best first; the merge order breaks ties
        ranked = self._ranked([(m, c) for _, _, m, c in scored], limit, per_type)
        for memory, cand in ranked:  # the breakdown only for what is returned
            memory.score = scoring.score(
                cand,
                best_bm25=best_bm25,
                relevance_value=relevance[cand.id],
                recency_value=scoring.recency(memory.clock, now, weights.recency_half_life_days),
                success_value=success_signal(memory),
                confidence_value=memory.effective_confidence or 0.0,
                weights=weights,
                penalty=scoring.SUPERSEDED_FACTOR if memory.superseded else 1.0,
            )
        return self._hydrate([m for m, _ in ranked], now)

    @staticmethod
    def _ranked(
        ranked: list[tuple[_Candidate, scoring.Candidate]], limit: int, per_type: int
    ) -> list[tuple[_Candidate, scoring.Candidate]]:
        """The first `limit` (all when 0), then at most `per_type` of each memory type."""
        if limit:
            ranked = ranked[:limit]
        if not per_type:
            return ranked
        taken: dict[str, int] = {}
        out = []
        for memory, cand in ranked:
            if taken.get(memory.TYPE, 0) < per_type:
                taken[memory.TYPE] = taken.get(memory.TYPE, 0) + 1
                out.append((memory, cand))
        return out

    def _hydrate(self, ranked: list[_Candidate], now: datetime) -> list[Memory]:
        out: list[Memory] = []
        for view in ranked:
            memory = self.repo.hydrate(view.row, now)
            memory.score = view.score
            out.append(memory)
        return out


def preceding(weights: RetrievalWeights) -> st.Preceding | None:
    """How the hybrid ranking's vector search lets a memory match through the one its agent
    wrote just before: a fact told in two writes (a question and its answer, a lesson's symptom
    and its fix) is found by either. Only agents' memories form sequences; memories written at
    one instant (a batch) have no predecessor, so a bulk-loaded set is ranked as before."""
    if weights.preceding_weight <= 0:
        return None
    return st.Preceding("agent", "created_at", weights.context_window_s, weights.preceding_weight)


def contextual_relevance(
    merged: dict[str, scoring.Candidate],
    rows: dict[str, dict],
    best_bm25: float,
    weights: RetrievalWeights,
    context_weight: float,
) -> dict[str, float]:
    """Each candidate's fused relevance, raised by its neighbours' (alma_app/context_boost.py).

    Only memories with an agent have neighbours: a user's preferences are not a sequence."""
    relevance = {k: scoring.relevance(c, best_bm25, weights) for k, c in merged.items()}
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
