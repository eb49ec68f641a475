"""Hybrid scoring: fuse vector and BM25 ranks, then weigh recency, success and confidence.

Pure functions over candidate hits, so the ranking can be tested and explained without a store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from alma_app.config import RetrievalWeights
from alma_app.types import ScoreBreakdown

RRF_K = 60


@dataclass
class Candidate:
    """One memory found by either search, with what each search said about it."""

    id: str
    similarity: float = 0.0  # cosine similarity, 0 when only the lexical search found it
    bm25: float = 0.0
    vector_rank: int | None = None
    lexical_rank: int | None = None


def merge_hits(
    vector_hits: list[tuple[str, float]], text_hits: list[tuple[str, float]], min_similarity: float
) -> dict[str, Candidate]:
    """Combine (id, cosine distance) and (id, bm25) hit lists, best first each.

    Vector-only hits below `min_similarity` are dropped: every query has nearest neighbours,
    but an unrelated memory should not reach a prompt just because the store is small.
    """
    out: dict[str, Candidate] = {}
    for rank, (memory_id, distance) in enumerate(vector_hits, start=1):
        out[memory_id] = Candidate(id=memory_id, similarity=1.0 - float(distance), vector_rank=rank)
    for rank, (memory_id, bm25) in enumerate(text_hits, start=1):
        cand = out.setdefault(memory_id, Candidate(id=memory_id))
        cand.bm25 = float(bm25)
        cand.lexical_rank = rank
    return {
        k: c for k, c in out.items() if c.lexical_rank is not None or c.similarity >= min_similarity
    }


def relevance(cand: Candidate) -> float:
    """Reciprocal-rank fusion, scaled so a memory ranked first by both searches scores 1."""
    total = 0.0
    if cand.vector_rank is not None:
        total += 1.0 / (RRF_K + cand.vector_rank)
    if cand.lexical_rank is not None:
        total += 1.0 / (RRF_K + cand.lexical_rank)
    return total / (2.0 / (RRF_K + 1))


def recency(last_touched: datetime, now: datetime, half_life_days: float) -> float:
    age = max(0.0, (now - last_touched).total_seconds() / 86400.0)
    return math.exp(-math.log(2.0) * age / half_life_days) if half_life_days > 0 else 1.0


def score(
    cand: Candidate,
    *,
    best_bm25: float,
    recency_value: float,
    success_value: float,
    confidence_value: float,
    weights: RetrievalWeights,
) -> ScoreBreakdown:
    rel = relevance(cand)
    lexical = cand.bm25 / best_bm25 if best_bm25 > 0 else 0.0
    total = (
        weights.relevance * rel
        + weights.recency * recency_value
        + weights.success * success_value
        + weights.confidence * confidence_value
    )
    norm = weights.relevance + weights.recency + weights.success + weights.confidence
    return ScoreBreakdown(
        similarity=round(max(0.0, cand.similarity), 6),
        lexical=round(lexical, 6),
        relevance=round(rel, 6),
        recency=round(recency_value, 6),
        success=round(success_value, 6),
        confidence=round(confidence_value, 6),
        total=round(total / norm if norm > 0 else 0.0, 6),
    )
