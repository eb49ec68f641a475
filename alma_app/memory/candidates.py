"""A search's candidates scored as arrays, and a light view of the few it returns.

A retrieve ranks ~200 candidate rows (the vector search's and the word search's) to return ~10.
Scoring each in Python (its age, decay, recency, success and weighted total) was ~1 ms of every
retrieve at 10k memories; here the components are gathered into arrays in one pass over the rows
and combined in numpy. The formulas are scoring.total's, decay.decay_factor's and
scoring.recency_of_age's, in the same order of operations, so a total differs from the scalar
one at most in its last bit (HybridSearch re-sorts what it returns by the breakdown's total).
Only the candidates returned get a view (CandidateView) and, later, a Memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from alma_app import decay
from alma_app.config import RetrievalWeights
from alma_app.memory import links, scoring
from alma_app.memory.records import _utc
from alma_app.memory.types import Memory, ScoreBreakdown

NEUTRAL_SUCCESS = 0.5


def success_signal(memory: Memory | CandidateView) -> float:
    """How well a heuristic's advice has worked, in [0, 1]; 0.5 (neutral) for other types."""
    if memory.TYPE == "heuristic":
        return memory.success_rate if memory.occurrence_count else NEUTRAL_SUCCESS  # type: ignore[union-attr]
    # Outcomes are records, not advice: a failure on a similar task is as worth seeing as a
    # success, so they compete on relevance alone.
    return NEUTRAL_SUCCESS


@dataclass(slots=True)
class CandidateView:
    """What the score breakdown and hydration read of a returned candidate's row."""

    row: dict[str, Any]
    TYPE: str
    clock: datetime
    effective_confidence: float
    success_rate: float = 0.0
    occurrence_count: int = 0
    superseded: bool = False
    score: ScoreBreakdown | None = None

    @classmethod
    def of(cls, row: dict[str, Any], now: datetime, half_life: float) -> CandidateView:
        clock = _clock(row["validated_at"])
        age_days = (now - clock).total_seconds() / 86400.0
        kept = decay.decay_factor(age_days, half_life)  # decay.effective_confidence's
        view = cls(row, row["type"], clock, float(row["confidence"]) * kept)
        view.superseded = links.row_is_superseded(row.get("metadata"))
        if view.TYPE == "heuristic":  # its success counts live in the payload
            view.occurrence_count, successes = _counts(row.get("payload") or "{}")
            view.success_rate = successes / view.occurrence_count if view.occurrence_count else 0.0
        return view


def totals(
    rows: Sequence[dict[str, Any]],
    relevance: np.ndarray,
    now: datetime,
    half_life: Callable[[str], float],
    weights: RetrievalWeights,
) -> np.ndarray:
    """Each row's scoring.total, from its relevance and its row's columns, as one array."""
    n = len(rows)
    lives: dict[str, float] = {}
    life = np.empty(n)
    clocks = np.empty(n)
    confidence = np.empty(n)
    success = np.full(n, NEUTRAL_SUCCESS)
    penalty = np.ones(n)
    for i, row in enumerate(rows):
        kind = row["type"]
        held = lives.get(kind)
        life[i] = held if held is not None else lives.setdefault(kind, half_life(kind))
        clocks[i] = _clock(row["validated_at"]).timestamp()
        confidence[i] = row["confidence"]
        if kind == "heuristic":
            occurrences, successes = _counts(row.get("payload") or "{}")
            if occurrences:
                success[i] = successes / occurrences
        if links.row_is_superseded(row.get("metadata")):
            penalty[i] = scoring.SUPERSEDED_FACTOR
    ages = (now.timestamp() - clocks) / 86400.0
    with np.errstate(all="ignore"):  # a zero half-life decays at once, as the scalar code's
        kept = np.where(ages > 0, np.exp(-decay.LN2 * ages / life), 1.0)
        half = weights.recency_half_life_days
        recency = np.exp(-decay.LN2 * np.maximum(ages, 0.0) / half) if half > 0 else np.ones(n)
    weighted = (
        weights.relevance * relevance
        + weights.recency * recency
        + weights.success * success
        + weights.confidence * (confidence * kept)
    )
    norm = weights.relevance + weights.recency + weights.success + weights.confidence
    if norm <= 0:
        return np.zeros(n)
    return np.round(penalty * weighted / norm, 6)


def _clock(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else _utc(value)  # the mirror's rows already carry UTC


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
