"""Neighbouring context: a memory written moments before or after a relevant one of the same
agent is lifted towards it; nothing else moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alma_app.memory.context_boost import Written, boost, neighbours

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_consecutive_memories_of_one_agent_are_neighbours():
    written = [Written("ann", at(2), "b"), Written("ann", at(1), "a"), Written("ann", at(3), "c")]
    assert neighbours(written, window_s=60) == {"a": ["b"], "b": ["a", "c"], "c": ["b"]}


def test_other_agents_far_apart_and_same_instant_memories_are_not_neighbours():
    written = [
        Written("ann", at(0), "a"),
        Written("bob", at(1), "b"),  # another owner
        Written("ann", at(1000), "c"),  # beyond the window
        Written("ann", at(1000), "d"),  # the same instant: one batch, no order
    ]
    assert neighbours(written, window_s=600) == {"a": [], "b": [], "c": [], "d": []}


def test_a_memory_next_to_a_relevant_one_rises_towards_it():
    relevance = {"answer": 0.8, "follow_up": 0.3, "unrelated": 0.3}
    written = [
        Written("ann", at(0), "answer"),
        Written("ann", at(5), "follow_up"),
        Written("ann", at(5000), "unrelated"),
    ]
    out = boost(relevance, written, weight=0.25, window_s=600)
    assert out["follow_up"] == pytest.approx(0.3 + 0.25 * 0.8 * 0.7)
    assert out["answer"] == pytest.approx(0.8 + 0.25 * 0.3 * 0.2)
    assert out["unrelated"] == 0.3
    assert all(0.0 <= v <= 1.0 for v in out.values())


def test_the_best_neighbour_counts_not_the_sum():
    relevance = {"a": 0.9, "b": 0.1, "c": 0.5}
    written = [Written("ann", at(0), "a"), Written("ann", at(1), "b"), Written("ann", at(2), "c")]
    assert boost(relevance, written, weight=0.5, window_s=60)["b"] == pytest.approx(
        0.1 + 0.5 * 0.9 * 0.9
    )


def test_weight_zero_leaves_the_fused_relevance_unchanged():
    relevance = {"a": 0.9, "b": 0.1}
    written = [Written("ann", at(0), "a"), Written("ann", at(1), "b")]
    assert boost(relevance, written, weight=0.0, window_s=600) == relevance


def test_memories_that_are_not_candidates_give_no_context():
    """Only the candidates of this search count: a memory filtered out of it (rejected, out of
    scope) lifts nothing and is not there; the candidates either side of it become adjacent."""
    relevance = {"a": 0.9, "c": 0.1}
    written = [Written("ann", at(0), "a"), Written("ann", at(1), "b"), Written("ann", at(2), "c")]
    out = boost(relevance, written, weight=0.5, window_s=60)
    assert set(out) == {"a", "c"}
    assert out["c"] == pytest.approx(0.1 + 0.5 * 0.9 * 0.9)
