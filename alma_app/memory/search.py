"""HybridSearch: one vector search and one BM25 search in the store, fused and scored.

Used by ALMA.retrieve (agents) and ALMA.search (the dashboard's search box), so humans see
exactly the ranking agents get.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import numpy as np

import alma_store as st
from alma_app.config import RetrievalWeights
from alma_app.memory import context_boost, hybrid, scoring
from alma_app.memory.candidates import CandidateView, success_signal, totals
from alma_app.memory.records import HIT_COLUMNS
from alma_app.memory.repository import MemoryRepository
from alma_app.memory.types import Memory, utcnow

SearchMode = Literal["hybrid", "vector", "lexical"]
MODES = ("hybrid", "vector", "lexical")


# The candidates' rows carry the columns the score reads, so only the memories returned are
# hydrated (JSON-decoded into Memory objects): ~10 of ~150 candidates per retrieve. The text
# says whether a memory asks (scoring.asks).
SCORE_COLUMNS = [*HIT_COLUMNS, "confidence", "validated_at", "text"]


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
        candidates: int | None = None,
    ) -> list[Memory]:
        """Memories matching `where`, best first, each with its score breakdown; at most
        `per_type` of each memory type when given (retrieve's top_k). `candidates` (taken from
        each search) defaults to the retrieval setting."""
        weights = self.repo.settings.retrieval
        candidates = max(weights.candidates if candidates is None else candidates, limit)
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
        # Neighbouring context and the question discount are part of the hybrid ranking; the
        # single modes show one search.
        context = weights.context_weight if mode == "hybrid" else 0.0
        relevance = contextual_relevance(merged, rows, best_bm25, weights, context)
        if mode == "hybrid":
            discount_questions(relevance, rows, weights.question_discount)
        now = utcnow()
        ids = list(merged)  # merge order: it breaks ties
        ordered = [rows[memory_id] for memory_id in ids]
        half_life = self.repo.settings.decay.half_life
        values = totals(
            ordered,
            np.fromiter((relevance[memory_id] for memory_id in ids), float, len(ids)),
            now,
            half_life,
            weights,
        )
        best_first = np.argsort(-values, kind="stable").tolist()
        picked = self._picked(best_first, [row["type"] for row in ordered], limit, per_type)
        ranked = [  # views only of the candidates returned
            (
                CandidateView.of(ordered[i], now, half_life(ordered[i]["type"])),
                merged[ids[i]],
            )
            for i in picked
        ]
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
        # the order of the totals shown (an array total can differ from it in the last bit)
        ranked.sort(key=lambda pair: -pair[0].score.total)  # type: ignore[union-attr]
        return self._hydrate([m for m, _ in ranked], now)

    @staticmethod
    def _picked(best_first: list[int], kinds: list[str], limit: int, per_type: int) -> list[int]:
        """The first `limit` (all when 0), then at most `per_type` of each memory type."""
        if limit:
            best_first = best_first[:limit]
        if not per_type:
            return best_first
        taken: dict[str, int] = {}
        out = []
        for i in best_first:
            if taken.get(kinds[i], 0) < per_type:
                taken[kinds[i]] = taken.get(kinds[i], 0) + 1
                out.append(i)
        return out

    def _hydrate(self, ranked: list[CandidateView], now: datetime) -> list[Memory]:
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
    ids, owners, at = [], [], []
    for memory_id in merged:
        row = rows[memory_id]
        owner, written = row.get("agent"), row.get("created_at")
        if owner and written is not None:
            ids.append(memory_id)
            owners.append(owner)
            at.append(context_boost.microseconds(written))
    if len(ids) < 2:
        return relevance
    raised = context_boost.lifted(
        np.fromiter((relevance[i] for i in ids), np.float64, len(ids)),
        owners,
        np.array(at, dtype=np.int64),
        ids,
        weight=context_weight,
        window_s=weights.context_window_s,
    )
    relevance.update(zip(ids, raised.tolist(), strict=True))
    return relevance


def discount_questions(relevance: dict[str, float], rows: dict[str, dict], discount: float) -> None:
    """Lower, in place, the relevance of each candidate that asks (scoring.asks) by `discount`.

    A question told earlier is worded like the query that looks for its answer. Applied after
    the neighbouring context: the question still lifts the answer written next to it, and the
    answer then ranks above the question (on LoCoMo, +1.1 points of recall@5 and hit@5;
    docs/benchmarks.md, stop 17)."""
    if discount <= 0:
        return
    kept = 1.0 - discount
    for memory_id in relevance:
        if scoring.asks(rows[memory_id].get("text")):
            relevance[memory_id] *= kept
