"""Neighbouring context: a memory written moments before or after a relevant one shares its context.

A fact is often told over several turns ("I went to a support group yesterday" / "It was so
powerful"), and a lesson is often learned over several steps of one session. Two candidates of
one search are neighbours when they belong to the same owner (agent, or user for preferences),
nothing among the candidates was written between them, and they were written at most `window`
seconds apart. A candidate's relevance r rises towards 1 by `weight` times its best neighbour's
relevance n: r + weight * n * (1 - r), which stays in [0, 1] and leaves a memory without
neighbours exactly where the fusion put it. On LoCoMo this lifts evidence recall@5 by several
points (docs/benchmarks.md).

Memories written at the very same instant (one batch built with one timestamp) carry no order,
so they are never neighbours. Pure functions over candidates: cheap (one sort of the candidates)
and testable without a store.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import NamedTuple


class Written(NamedTuple):
    """Who wrote a candidate memory and when (a tuple: sorting them orders each owner's
    memories in time, and a few hundred are built per search)."""

    owner: str
    at: datetime
    id: str


def neighbours(written: list[Written], window_s: float) -> dict[str, list[str]]:
    """Each candidate's adjacent candidates: same owner, consecutive in time, within window_s."""
    out: dict[str, list[str]] = {w.id: [] for w in written}
    for before, after in _adjacent(written, window_s):
        out[before.id].append(after.id)
        out[after.id].append(before.id)
    return out


def boost(
    relevance: dict[str, float], written: list[Written], *, weight: float, window_s: float
) -> dict[str, float]:
    """Relevance raised towards 1 by weight × the best neighbour's relevance.

    With weight 0, or without neighbours, the values come back unchanged.
    """
    if weight <= 0 or window_s <= 0:
        return dict(relevance)
    best = dict.fromkeys(relevance, 0.0)
    for before, after in _adjacent([w for w in written if w.id in relevance], window_s):
        a, b = before.id, after.id
        if relevance[b] > best[a]:
            best[a] = relevance[b]
        if relevance[a] > best[b]:
            best[b] = relevance[a]
    return {k: v + weight * best[k] * (1.0 - v) for k, v in relevance.items()}


def _adjacent(written: list[Written], window_s: float) -> list[tuple[Written, Written]]:
    window = timedelta(seconds=window_s)
    zero = timedelta(0)
    return [
        (before, after)
        for before, after in pairwise(sorted(written))
        if before.owner == after.owner and zero < after.at - before.at <= window
    ]
