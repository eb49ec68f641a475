"""A search ranks its candidates by totals computed as arrays; each must be the total the score
breakdown of that memory shows (scoring.total of its parts), so the ranking agents get is the
one the dashboard explains."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np

from alma_app.config import DecaySettings, RetrievalWeights
from alma_app.memory import scoring
from alma_app.memory.candidates import CandidateView, success_signal, totals

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def row(kind: str, age_days: float, confidence: float, **extra: object) -> dict:
    return {
        "type": kind,
        "validated_at": NOW - timedelta(days=age_days),
        "confidence": confidence,
        "payload": extra.get("payload", "{}"),
        "metadata": extra.get("metadata", "{}"),
    }


def scalar_total(r: dict, relevance: float, decay: DecaySettings, w: RetrievalWeights) -> float:
    view = CandidateView.of(r, NOW, decay.half_life(r["type"]))
    age = (NOW - view.clock).total_seconds() / 86400.0
    return scoring.total(
        relevance,
        scoring.recency_of_age(age, w.recency_half_life_days),
        success_signal(view),
        view.effective_confidence or 0.0,
        w,
        scoring.SUPERSEDED_FACTOR if view.superseded else 1.0,
    )


CANDIDATES = [
    row("domain_knowledge", 0.0, 1.0),
    row("domain_knowledge", 400.0, 0.9),
    row("outcome", 3.5, 0.7),
    row("preference", 10.0, 1.0),
    row("anti_pattern", 45.0, 0.8),
    row("heuristic", 2.0, 0.66, payload=json.dumps({"occurrence_count": 4, "success_count": 3})),
    row("heuristic", 1.0, 0.66, payload=json.dumps({"occurrence_count": 0, "success_count": 0})),
    row("domain_knowledge", 1.0, 1.0, metadata=json.dumps({"superseded_by": "m-2"})),
    # written "in the future" by a clock a little ahead: no decay, full recency
    row("outcome", -0.01, 0.5),
    # a row read from LanceDB rather than the mirror carries a naive UTC time
    {**row("outcome", 7.0, 0.8), "validated_at": (NOW - timedelta(days=7)).replace(tzinfo=None)},
]


def test_array_totals_equal_each_breakdowns_total() -> None:
    decay, weights = DecaySettings(), RetrievalWeights()
    relevance = np.linspace(0.05, 0.95, len(CANDIDATES))
    got = totals(CANDIDATES, relevance, NOW, decay.half_life, weights)
    want = [
        scalar_total(r, float(v), decay, weights)
        for r, v in zip(CANDIDATES, relevance, strict=True)
    ]
    assert got.tolist() == want


def test_a_superseded_memory_ranks_below_its_equal_and_a_proven_heuristic_above() -> None:
    decay, weights = DecaySettings(), RetrievalWeights()
    same = row("domain_knowledge", 1.0, 1.0)
    superseded = row("domain_knowledge", 1.0, 1.0, metadata=json.dumps({"superseded_by": "x"}))
    proven = row(
        "heuristic", 1.0, 1.0, payload=json.dumps({"occurrence_count": 5, "success_count": 5})
    )
    failing = row(
        "heuristic", 1.0, 1.0, payload=json.dumps({"occurrence_count": 5, "success_count": 0})
    )
    got = totals(
        [same, superseded, proven, failing], np.full(4, 0.5), NOW, decay.half_life, weights
    )
    assert got[1] < got[0]
    assert got[2] > got[3]


def test_zero_weights_give_zero_totals_without_warnings() -> None:
    weights = RetrievalWeights(relevance=0.0, recency=0.0, success=0.0, confidence=0.0)
    got = totals(CANDIDATES[:3], np.ones(3), NOW, DecaySettings().half_life, weights)
    assert got.tolist() == [0.0, 0.0, 0.0]
