"""Similarity through the row written just before: a fact told in two rows is found by either.

An agent often records one thing over two writes: a conversation's question and its answer
("How did you two meet?" / "It happened at yoga in the park."), or a lesson's symptom and its
fix. Alone, the second row may share nothing with a query about the first. With `Preceding`, a
vector search also scores each row as if its vector were joined by `weight` times the vector of
the row written just before it in the same group (same agent), at most `within_s` seconds
earlier: similarity = max(own cosine, cosine(query, v + weight * v_before)). A row keeps its
own score when it has no such predecessor, when the two were written at the same instant (a
batch carries no order), or when the predecessor does not pass the search's filter or is
deleted (a rejected memory never lends its words to another).

Answered by the in-process mirror only (store/mirror.py), where the vectors are already in
memory: the predecessor of every row and the cosine between the two are computed once per
block of the mirror, and a search scores again only its `limit` nearest rows and the rows
written just after them (`lifted`): a few array operations over a few hundred values. A
predecessor in another block of the mirror (the first row of each group in each block, about
log2(rows) blocks) is not seen. LanceDB's own search (object stores, memory://) ignores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from .mirror_blocks import Block

_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
NO_LINKS = np.full(0, -1, dtype=np.int64)  # a block where no row has a predecessor


@dataclass(frozen=True)
class Preceding:
    """How a vector search lets a row match through the row written just before it.

    - `group`: rows with equal values form one sequence (the owning agent); null: none.
    - `order`: the timestamp column that orders a group's rows (when each was written).
    - `within_s`: the two rows at most this many seconds apart, and not at the same instant.
    - `weight`: how much of the predecessor's vector joins the row's (0: none).
    """

    group: str
    order: str
    within_s: float
    weight: float = 1.0


def links(block: Block, spec: Preceding) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's predecessor and successor in the block (-1: none) and the cosine between a
    row and its predecessor, built once per block (its data never changes; deletions and the
    filter are checked at search time)."""
    key = (spec.group, spec.order, spec.within_s)
    hit = block._preceding.get(key)
    if hit is None:
        hit = _links(block, spec)
        block._preceding[key] = hit
    return hit


def lifted(
    block: Block,
    spec: Preceding,
    rows: np.ndarray,
    similarity: np.ndarray,
    mask: np.ndarray,
    limit: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The rows a search may return and their similarities, raised by their predecessors.

    `rows` are the block's rows passing the filter (`mask`), ascending, and `similarity` their
    cosines to a unit query. Only the `limit` nearest of them and the rows written just after
    those can reach the `limit` best with the joined vector (a row and its predecessor both far
    from the query stay far, as measured on LoCoMo: docs/benchmarks.md), so only those are
    scored again: a few hundred values, whatever the block's size."""
    before, cosines, after = links(block, spec)
    if before is NO_LINKS or spec.weight <= 0:
        return rows, similarity
    chosen, own = rows, similarity
    if rows.size > limit:
        # the nearest (ties included), then the rows written just after them not among them
        least = np.partition(similarity, rows.size - limit)[rows.size - limit]
        picked = np.flatnonzero(similarity >= least)
        following = after[rows[picked]]
        following = following[following >= 0]
        following = np.searchsorted(rows, following[mask[following]])
        picked = np.concatenate((picked, following[similarity[following] < least]))
        chosen, own = rows[picked], similarity[picked]
    previous = before[chosen]
    usable = previous >= 0
    usable[usable] = mask[previous[usable]]
    if not usable.any():
        return chosen, own
    # a usable predecessor passes the filter, so its cosine is among `similarity`
    theirs = similarity[np.searchsorted(rows, previous[usable])]
    weight = np.float32(spec.weight)
    # |v + w * u| for unit v, u is sqrt(1 + w^2 + 2w cos(v, u))
    norm = np.sqrt(1 + weight * weight + 2 * weight * cosines[chosen[usable]])
    joined = (own[usable] + weight * theirs) / norm
    own = own.copy()
    own[usable] = np.maximum(own[usable], joined)
    return chosen, own


def _links(block: Block, spec: Preceding) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from .mirror_blocks import Unsupported

    if spec.order not in block.data.column_names:
        raise Unsupported(f"no column {spec.order!r}")
    column = block.data.column(spec.order)
    if not pa.types.is_timestamp(column.type):
        raise Unsupported(f"{spec.order} is not a timestamp column")
    codes, _ = block.coded(spec.group)  # nulls are -1
    missing = np.iinfo(np.int64).min
    times = pc.fill_null(column.cast(pa.int64()), missing).to_numpy(zero_copy_only=False)
    window = spec.within_s * _PER_SECOND[column.type.unit]
    before = np.full(block.num_rows, -1, dtype=np.int64)
    after = np.full(block.num_rows, -1, dtype=np.int64)
    cosines = np.zeros(block.num_rows, dtype=np.float32)
    if block.num_rows < 2:
        return NO_LINKS, cosines, after
    order = np.lexsort((times, codes))
    earlier, later = order[:-1], order[1:]
    gap = times[later] - times[earlier]
    linked = (
        (codes[later] == codes[earlier])
        & (codes[later] >= 0)
        & (times[earlier] != missing)
        & (gap > 0)
        & (gap <= window)
        & (block.inv_norms[later] > 0)
        & (block.inv_norms[earlier] > 0)
    )
    rows, previous = later[linked], earlier[linked]
    if rows.size == 0:
        return NO_LINKS, cosines, after
    before[rows] = previous
    after[previous] = rows
    vectors = block.vectors
    dots = np.einsum("ij,ij->i", vectors[rows], vectors[previous])
    cosines[rows] = dots * block.inv_norms[rows] * block.inv_norms[previous]
    return before, cosines, after
