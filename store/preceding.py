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
written just after them (`lifted`): a few array operations over a few hundred values. The
first row of each group in a block (the mirror keeps about log2(rows) blocks; the newest
memory is often alone in one) looks for its predecessor in the other blocks when it is among
those rows; a row written just after another block's row is not added to them. LanceDB's own
search (object stores, memory://) ignores `Preceding`: each row matches by its own vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .mirror_blocks import Unsupported

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .mirror_blocks import Block

_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
MISSING = np.iinfo(np.int64).min  # a null time
PLANS_KEPT = 16  # per block: the filter masks whose pairs are kept (one per agent view)


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


class Links(NamedTuple):
    """A block's sequences, built once per block (its data never changes; deletions and the
    filter are checked at search time)."""

    before: np.ndarray  # each row's predecessor in the block, -1: none
    after: np.ndarray  # each row's successor in the block, -1: none
    cosines: np.ndarray  # cosine between a row and its predecessor
    first: np.ndarray  # the row is its group's earliest in the block (its predecessor, if
    # any, is in another block)
    codes: np.ndarray  # group codes (-1: null)
    lookup: dict[Any, int]  # group value -> code
    values: list[Any]  # code -> group value
    times: np.ndarray  # int64 in the column's unit, MISSING for null
    order: np.ndarray  # rows by (group, time)
    sorted_codes: np.ndarray
    sorted_times: np.ndarray
    window: int  # within_s in the column's unit
    earliest: int  # the block's time range (non-null times)
    latest: int


def links(block: Block, spec: Preceding) -> Links:
    """The block's sequences for `spec`, cached on the block."""
    key = (spec.group, spec.order, spec.within_s)
    hit = block._preceding.get(key)
    if hit is None:
        hit = _links(block, spec)
        block._preceding[key] = hit
    return hit


def lifted(
    blocks: Sequence[Block],
    index: int,
    spec: Preceding,
    query: np.ndarray,
    masks: Sequence[np.ndarray],
    rows: np.ndarray,
    similarity: np.ndarray,
    limit: int,
    across: dict[tuple[Any, ...], tuple[int, int, float] | None],
) -> tuple[np.ndarray, np.ndarray]:
    """The rows of `blocks[index]` a search may return and their similarities, raised by their
    predecessors. `across` remembers, for this list of blocks, where the first row of a group
    in a block found its predecessor in another block (a search repeats what the last found).

    `rows` are the block's rows passing the filter (`masks[index]`; `masks`: each block's),
    ascending, and `similarity` their cosines to the unit `query`. Only the `limit` nearest of
    them and the rows written just after those can reach the `limit` best with the joined
    vector (a row and its predecessor both far from the query stay far, as measured on LoCoMo:
    docs/benchmarks.md), so only those are scored again: a few hundred values, whatever the
    block's size."""
    block = blocks[index]
    if spec.weight <= 0 or rows.size == 0:
        return rows, similarity
    seq = links(block, spec)
    mask = masks[index]
    weight = float(spec.weight)
    if rows.size <= limit:  # every row is returned: the same pairs search after search
        pairs, heads = _pairs(block, seq, spec, rows, mask)
        raised = similarity.copy()
        if pairs[0].size:
            raised[pairs[0]] = (similarity[pairs[0]] + weight * similarity[pairs[1]]) * pairs[2]
        chosen, own = rows, similarity
    else:
        # the nearest (ties included), then the rows written just after them not among them
        least = np.partition(similarity, rows.size - limit)[rows.size - limit]
        picked = np.flatnonzero(similarity >= least)
        following = seq.after[rows[picked]]
        following = following[following >= 0]
        following = np.searchsorted(rows, following[mask[following]])
        picked = np.concatenate((picked, following[similarity[following] < least]))
        chosen, own = rows[picked], similarity[picked]
        previous = seq.before[chosen]
        usable = previous >= 0
        usable[usable] = mask[previous[usable]]
        raised = own.copy()
        if usable.any():
            # a usable predecessor passes the filter, so its cosine is among `similarity`
            theirs = similarity[np.searchsorted(rows, previous[usable])]
            raised[usable] = _joined(own[usable], theirs, seq.cosines[chosen[usable]], weight)
        heads = np.flatnonzero(seq.first[chosen])
    if len(blocks) > 1:
        for at in heads:
            row = int(chosen[at])
            key = (spec.group, spec.order, spec.within_s, index, row)
            if key not in across:
                across[key] = _across(blocks, index, spec, row)
            found = across[key]
            if found is not None and masks[found[0]][found[1]]:
                other, there, cosine = blocks[found[0]], found[1], found[2]
                theirs = float(other.vectors[there] @ query) * float(other.inv_norms[there])
                raised[at] = _joined(float(own[at]), theirs, cosine, weight)
    return chosen, np.maximum(own, raised)


def _pairs(
    block: Block, seq: Links, spec: Preceding, rows: np.ndarray, mask: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """For a block whose rows passing `mask` are all scored again: the positions in `rows` of
    those with a usable predecessor, their predecessors' positions, 1 / |v + w * u| for each,
    and the positions of the groups' first rows. They depend on the filter, not the query,
    so they are kept per filter mask (the block caches its masks; a deletion makes new ones)."""
    plans = block._preceding.setdefault(("pairs", spec.group, spec.order, spec.within_s), {})
    hit = plans.get(id(mask))
    if hit is not None and hit[0] is mask and hit[1] == spec.weight:
        return hit[2], hit[3]
    previous = seq.before[rows]
    usable = previous >= 0
    usable[usable] = mask[previous[usable]]
    at = np.flatnonzero(usable)
    weight = float(spec.weight)
    inverse = 1 / np.sqrt(1 + weight * weight + 2 * weight * seq.cosines[rows[at]])
    pairs = (at, np.searchsorted(rows, previous[at]), inverse.astype(np.float32))
    heads = np.flatnonzero(seq.first[rows])
    if len(plans) >= PLANS_KEPT:
        plans.clear()
    plans[id(mask)] = (mask, spec.weight, pairs, heads)
    return pairs, heads


def _joined(own: Any, theirs: Any, cosine: Any, weight: float) -> Any:
    """cos(query, v + w * u) from cos(query, v), cos(query, u) and cos(v, u), for unit v, u:
    |v + w * u| is sqrt(1 + w^2 + 2w cos(v, u))."""
    return (own + weight * theirs) / np.sqrt(1 + weight * weight + 2 * weight * cosine)


def _across(
    blocks: Sequence[Block], index: int, spec: Preceding, row: int
) -> tuple[int, int, float] | None:
    """The predecessor of the first row of its group in `blocks[index]`, from another block:
    the latest earlier row of the same group anywhere, if within the window (the caller
    checks that it is live and passes the filter), as (block number, row, cosine between the
    two); None otherwise."""
    seq = links(blocks[index], spec)
    time = int(seq.times[row])
    value = seq.values[seq.codes[row]]
    best: tuple[int, int, int] | None = None
    for number, other in enumerate(blocks):
        if number == index:
            continue
        theirs = links(other, spec)
        if theirs.earliest >= time or theirs.latest < time - seq.window:
            continue  # nothing of this block is written in the window before the row
        code = theirs.lookup.get(value)
        if code is None:
            continue
        low, high = np.searchsorted(theirs.sorted_codes, [code, code + 1])
        at = low + int(np.searchsorted(theirs.sorted_times[low:high], time)) - 1
        if at < low or theirs.sorted_times[at] == MISSING:
            continue
        if best is None or theirs.sorted_times[at] > best[0]:
            best = (int(theirs.sorted_times[at]), number, int(theirs.order[at]))
    if best is None or best[0] < time - seq.window or best[0] >= time:
        return None
    _, number, found = best
    other, block = blocks[number], blocks[index]
    if other.inv_norms[found] <= 0:
        return None
    cosine = float(other.vectors[found] @ block.vectors[row])
    return number, found, cosine * float(other.inv_norms[found] * block.inv_norms[row])


def _links(block: Block, spec: Preceding) -> Links:
    if spec.order not in block.data.column_names:
        raise Unsupported(f"no column {spec.order!r}")
    column = block.data.column(spec.order)
    if not pa.types.is_timestamp(column.type):
        raise Unsupported(f"{spec.order} is not a timestamp column")
    codes, lookup = block.coded(spec.group)  # nulls are -1
    values: list[Any] = [None] * len(lookup)
    for value, code in lookup.items():
        values[code] = value
    times = pc.fill_null(column.cast(pa.int64()), MISSING).to_numpy(zero_copy_only=False)
    window = int(spec.within_s * _PER_SECOND[column.type.unit])
    n = block.num_rows
    before = np.full(n, -1, dtype=np.int64)
    after = np.full(n, -1, dtype=np.int64)
    cosines = np.zeros(n, dtype=np.float32)
    first = np.zeros(n, dtype=bool)
    order = np.lexsort((times, codes))
    sorted_codes, sorted_times = codes[order], times[order]
    known = times != MISSING
    earliest = int(times[known].min()) if known.any() else MISSING
    latest = int(times[known].max()) if known.any() else MISSING
    if n:
        starts = np.ones(n, dtype=bool)
        starts[1:] = sorted_codes[1:] != sorted_codes[:-1]
        heads = order[starts & (sorted_codes >= 0) & (sorted_times != MISSING)]
        first[heads[block.inv_norms[heads] > 0]] = True
    earlier, later = order[:-1], order[1:]
    gap = times[later] - times[earlier]
    linked = (
        (codes[later] == codes[earlier])
        & (codes[later] >= 0)
        & (times[earlier] != MISSING)
        & (gap > 0)
        & (gap <= window)
        & (block.inv_norms[later] > 0)
        & (block.inv_norms[earlier] > 0)
    )
    rows, previous = later[linked], earlier[linked]
    before[rows] = previous
    after[previous] = rows
    dots = np.einsum("ij,ij->i", block.vectors[rows], block.vectors[previous])
    cosines[rows] = dots * block.inv_norms[rows] * block.inv_norms[previous]
    return Links(
        before, after, cosines, first, codes, lookup, values, times, order,
        sorted_codes, sorted_times, window, earliest, latest,
    )  # fmt: skip
