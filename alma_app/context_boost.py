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

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise


@dataclass(frozen=True)
class Written:
    """When and by whom a candidate memory was written."""

    id: str
    owner: str
    at: datetime


def neighbours(written: list[Written], window_s: float) -> dict[str, list[str]]:
    """Each candidate's adjacent candidates: same owner, consecutive in time, within window_s."""
    out: dict[str, list[str]] = {w.id: [] for w in written}
    ordered = sorted(written, key=lambda w: (w.owner, w.at))
    for before, after in pairwise(ordered):
        if before.owner != after.owner:
            continue
        gap = (after.at - before.at).total_seconds()
        if 0 < gap <= window_s:
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
    adjacent = neighbours([w for w in written if w.id in relevance], window_s)
    out: dict[str, float] = {}
    for memory_id, value in relevance.items():
        best = max((relevance[n] for n in adjacent.get(memory_id, ())), default=0.0)
        out[memory_id] = value + weight * best * (1.0 - value)
    return out
