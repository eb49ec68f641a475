"""Hybrid scoring: fuse vector and BM25 scores, then weigh recency, success and confidence.

Fusion is by score, not rank: relevance = cosine + weight * word match. The word match is the
memory's share of the query's words, each weighted by its IDF (store/bm25.py rank):
a memory holding the query's rare name or noun gets most of it, one sharing only a common word
little, and two memories holding the same words tie, so their meaning decides between them
(BM25's own score would rank the shorter one first). The share is raised to match_exponent, so
a partial match counts for less than its fraction. On LoCoMo this finds 6 more points of
evidence than fusing the BM25 score, and benchmarks/quality.py's semantic queries gain too
(docs/benchmarks.md).

Where the store reports no share (LanceDB's FTS without the search mirror), the word match is
the BM25 hit's strength: relative to the query's best hit and damped when the score itself is
low (bm25 / (bm25 + saturation)), weighted by lexical_weight.

HybridSearch then lifts a candidate's relevance by its neighbours'
(alma_app/memory/context_boost.py), and lowers a memory that only asks (`asks`): a question
told earlier ("Where did you adopt him?") is worded like the query that looks for its answer,
and would take the answer's place.

A memory superseded by a newer version of the same statement (alma_app.memory.writes) keeps
its components, but its total is multiplied by SUPERSEDED_FACTOR, so the newer one ranks first
while the older stays retrievable; the factor is shown as the breakdown's `penalty`.

Pure functions over candidate hits, so the ranking can be tested and explained without a store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from alma_app.config import RetrievalWeights
from alma_app.memory.types import ScoreBreakdown

SUPERSEDED_FACTOR = 0.8
QUESTION_MARKS = frozenset("?？")  # ASCII and full-width


@dataclass
class Candidate:
    """One memory found by either search, with what each search said about it."""

    id: str
    # cosine similarity; for a memory only the lexical search found, the bound merge_hits gives
    similarity: float = 0.0
    bm25: float = 0.0
    # IDF-weighted share of the query's words the memory holds; None when the store gives none
    matched: float | None = None
    vector_rank: int | None = None
    lexical_rank: int | None = None


def merge_hits(
    vector_hits: list[tuple[str, float]],
    text_hits: list[tuple[str, float]] | list[tuple[str, float, float | None]],
    min_similarity: float,
    vector_limit: int | None = None,
) -> dict[str, Candidate]:
    """Combine (id, cosine distance) and (id, bm25[, matched share]) hit lists, best first each.

    When the lexical search reports shares, a candidate it did not find holds none of the
    query's words that count (share 0), as far as the search looked.

    Vector-only hits below `min_similarity` are dropped: every query has nearest neighbours,
    but an unrelated memory should not reach a prompt just because the store is small.

    When the vector search was cut at `vector_limit`, a memory only the lexical search found
    was not among the nearest `vector_limit`: its cosine is at most the last vector hit's, and
    it is given that bound rather than 0. Counting it as unrelated would rank a strong word
    match below every vector hit (on LoCoMo, 2.5 points of recall@5; docs/benchmarks.md).
    """
    out: dict[str, Candidate] = {}
    shares = any(len(hit) > 2 and hit[2] is not None for hit in text_hits)
    none = 0.0 if shares else None
    for rank, (memory_id, distance) in enumerate(vector_hits, start=1):
        out[memory_id] = Candidate(
            id=memory_id, similarity=1.0 - float(distance), vector_rank=rank, matched=none
        )
    cut = vector_limit is not None and len(vector_hits) >= vector_limit > 0
    bound = max(0.0, 1.0 - float(vector_hits[-1][1])) if cut else 0.0
    for rank, hit in enumerate(text_hits, start=1):
        memory_id = hit[0]
        cand = out.setdefault(memory_id, Candidate(id=memory_id, similarity=bound))
        cand.bm25 = float(hit[1])
        cand.lexical_rank = rank
        cand.matched = float(hit[2] or 0.0) if shares else None  # type: ignore[misc]
    return {
        k: c for k, c in out.items() if c.lexical_rank is not None or c.similarity >= min_similarity
    }


def asks(text: str | None) -> bool:
    """Whether a memory's text is a question (ends with a question mark): it says what was
    asked, not what the answer was, so in hybrid ranking it holds less (question_discount)."""
    if not text:
        return False
    last = text[-1]  # a search checks every candidate: no copy of the text unless it must
    if last.isspace():
        last = text.rstrip()[-1:]
    return last in QUESTION_MARKS


def lexical_strength(bm25: float, best_bm25: float, saturation: float) -> float:
    """In [0, 1]: relative to the query's best hit, damped when the BM25 score itself is low."""
    if bm25 <= 0 or best_bm25 <= 0:
        return 0.0
    return (bm25 / best_bm25) * (bm25 / (bm25 + saturation))


def relevance(cand: Candidate, best_bm25: float, weights: RetrievalWeights) -> float:
    """Cosine similarity plus the weighted word match, scaled into [0, 1]."""
    if cand.matched is not None:
        weight = weights.match_weight
        words = cand.matched**weights.match_exponent if cand.matched > 0 else 0.0
    else:
        weight = weights.lexical_weight
        words = lexical_strength(cand.bm25, best_bm25, weights.lexical_saturation)
    return (max(0.0, cand.similarity) + weight * words) / (1.0 + weight)


def recency(last_touched: datetime, now: datetime, half_life_days: float) -> float:
    return recency_of_age((now - last_touched).total_seconds() / 86400.0, half_life_days)


def recency_of_age(age_days: float, half_life_days: float) -> float:
    """recency() for an age already known (a search computes each candidate's age once)."""
    age = max(0.0, age_days)
    return math.exp(-math.log(2.0) * age / half_life_days) if half_life_days > 0 else 1.0


def score(
    cand: Candidate,
    *,
    best_bm25: float,
    recency_value: float,
    success_value: float,
    confidence_value: float,
    weights: RetrievalWeights,
    penalty: float = 1.0,
    relevance_value: float | None = None,
) -> ScoreBreakdown:
    """The weighted total; relevance_value, when given, replaces the candidate's own relevance
    (raised by its neighbours' in alma_app.memory.context_boost)."""
    rel = relevance(cand, best_bm25, weights) if relevance_value is None else relevance_value
    lexical = cand.bm25 / best_bm25 if best_bm25 > 0 else 0.0
    return ScoreBreakdown(
        similarity=round(max(0.0, cand.similarity), 6),
        lexical=round(lexical, 6),
        relevance=round(rel, 6),
        recency=round(recency_value, 6),
        success=round(success_value, 6),
        confidence=round(confidence_value, 6),
        total=total(rel, recency_value, success_value, confidence_value, weights, penalty),
        penalty=penalty,
    )


def total(
    relevance_value: float,
    recency_value: float,
    success_value: float,
    confidence_value: float,
    weights: RetrievalWeights,
    penalty: float = 1.0,
) -> float:
    """score()'s total alone: searches rank every candidate by it and build the breakdown
    only for the memories they return."""
    weighted = (
        weights.relevance * relevance_value
        + weights.recency * recency_value
        + weights.success * success_value
        + weights.confidence * confidence_value
    )
    norm = weights.relevance + weights.recency + weights.success + weights.confidence
    return round(penalty * weighted / norm if norm > 0 else 0.0, 6)
