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
so they are never neighbours. Pure functions over candidates: cheap (one sort of the candidates,
in numpy: `lifted`, which every search calls) and testable without a store.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import NamedTuple

import numpy as np


class Written(NamedTuple):
    """Who wrote a candidate memory and when (a tuple: sorting them orders each owner's
    memories in time, and a few hundred are built per search)."""

    owner: str
    at: datetime
    id: str


def neighbours(written: list[Written], window_s: float) -> dict[str, list[str]]:
    """Each candidate's adjacent candidates: same owner, consecutive in time, within window_s."""
    out: dict[str, list[str]] = {w.id: [] for w in written}
    owners, at_us, ids = _columns(written)
    for before, after in zip(*_adjacent(owners, at_us, ids, window_s), strict=True):
        out[ids[before]].append(ids[after])
        out[ids[after]].append(ids[before])
    return out


def boost(
    relevance: dict[str, float], written: list[Written], *, weight: float, window_s: float
) -> dict[str, float]:
    """Relevance raised towards 1 by weight × the best neighbour's relevance.

    With weight 0, or without neighbours, the values come back unchanged.
    """
    owners, at_us, ids = _columns([w for w in written if w.id in relevance])
    raised = lifted(
        np.array([relevance[i] for i in ids], dtype=np.float64),
        owners,
        at_us,
        ids,
        weight=weight,
        window_s=window_s,
    )
    return {**relevance, **dict(zip(ids, raised.tolist(), strict=True))}


def microseconds(at: datetime) -> int:
    """A write time as whole microseconds since the epoch (exact for datetimes of this era)."""
    return round(at.timestamp() * 1e6)


def lifted(
    relevance: np.ndarray,
    owners: Sequence[Hashable],
    at_us: np.ndarray,
    ids: Sequence[str],
    *,
    weight: float,
    window_s: float,
) -> np.ndarray:
    """boost() over arrays: each candidate's relevance, owner, write time in microseconds and id
    (which orders memories written at one instant, as sorting Written tuples does)."""
    if weight <= 0 or window_s <= 0 or relevance.size < 2:
        return relevance.copy()
    before, after = _adjacent(owners, at_us, ids, window_s)
    best = np.zeros(relevance.size)
    # each candidate is at most once the earlier and once the later of an adjacent pair
    best[before] = relevance[after]
    best[after] = np.maximum(best[after], relevance[before])
    return relevance + weight * best * (1.0 - relevance)


def _columns(written: list[Written]) -> tuple[list[str], np.ndarray, list[str]]:
    """Owners, write times in microseconds and ids of `written`, in its order."""
    at_us = np.array([microseconds(w.at) for w in written], dtype=np.int64)
    return [w.owner for w in written], at_us, [w.id for w in written]


def _adjacent(
    owners: Sequence[Hashable], at_us: np.ndarray, ids: Sequence[str], window_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the adjacent pairs (earlier, later): consecutive when sorted by owner, time
    and id, the same owner, written apart (not at one instant) and at most window_s apart."""
    n = len(ids)
    if n < 2 or window_s <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    codes: dict[Hashable, int] = {}
    owner = np.fromiter((codes.setdefault(o, len(codes)) for o in owners), np.int64, n)
    order = np.lexsort((np.asarray(ids), at_us, owner))
    gap = np.diff(at_us[order])
    together = (owner[order][1:] == owner[order][:-1]) & (gap > 0)
    together &= gap <= round(window_s * 1e6)
    return order[:-1][together], order[1:][together]
