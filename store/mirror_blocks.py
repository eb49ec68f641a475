"""The mirror's storage: blocks of rows, each the concatenation of one or more Lance fragments.

An agent writes one memory per call, so a table soon has dozens of one-row fragments; searching
them one by one cost more than the search (a filter mask, an Arrow `take` and a cast per fragment:
~16 ms of a retrieve at 1,000 memories after 100 single writes). The mirror therefore keeps the
fragments' rows merged into a few blocks, like a log-structured merge: a new fragment becomes a
block of its own, and the newest blocks are merged while the newer is at least half the size of
the one before (so there are about log2(rows) blocks, and each row is copied about log2 times over
its life), up to MAX_BLOCK_ROWS. Merging happens in memory, never on disk, and a block remembers
which fragment each of its rows came from, so a fragment's deletions, or its disappearance
(compaction), touch only that fragment's rows.

A block's caches (column codes, filter masks, BM25 postings, ids, predecessors) are built on first
use; merged blocks merge their postings instead of re-analysing the text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import bm25, mirror_fill, mirror_masks
from .filters import And, Filter
from .mirror_masks import Unsupported

MASK_CACHE = 128  # filters remembered per block (an agent's view and its advice searches' ones)
MISSING = object()  # a value not yet converted to Python
MAX_BLOCK_ROWS = 32768  # merging stops here: bigger blocks would cost more to copy than to search
# Blocks up to this size convert whole columns to Python at first search (~1 s at most, once);
WHOLE_COLUMNS = MAX_BLOCK_ROWS  # bigger ones (written or compacted whole) only the rows read


@dataclass(frozen=True)
class Part:
    """The rows one Lance fragment contributes to a block."""

    key: tuple[Any, ...] | None  # fragment id and data files; None: the fragment is gone
    deletion: str  # its deletion file, as last read
    offsets: np.ndarray  # each row's physical offset within the fragment
    rows: np.ndarray  # where those rows sit in the block, same order
    live: np.ndarray | None  # per row of the part; None when none is deleted


@dataclass
class Block:
    """Live rows of one or more fragments: Arrow columns, a vector matrix, caches."""

    data: pa.Table
    vectors: np.ndarray  # (rows, dim) float32
    inv_norms: np.ndarray  # 1/|v|, 0 for zero vectors
    parts: tuple[Part, ...]
    live: np.ndarray | None = None  # rows deleted since loading are False
    _codes: dict[str, tuple[np.ndarray, dict[Any, int]]] = field(default_factory=dict)
    _masks: dict[Filter, np.ndarray] = field(default_factory=dict)
    # the masks with `live` applied and their rows, for this Block object only (not shared by
    # with_parts: a deletion makes a new one)
    _passing: dict[Filter | None, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _ids: dict[str, int] | None = None
    _lexical: dict[str, bm25.Postings] = field(default_factory=dict)  # by text column
    _values: dict[str, tuple[list[Any], bool]] = field(default_factory=dict)
    _stats: dict[str, tuple[int, float]] = field(default_factory=dict)  # not shared: live moves
    _frequencies: dict[str, dict[str, int]] = field(default_factory=dict)  # not shared either
    _complete: set[str] = field(default_factory=set)  # columns whose values are all converted
    _filling: set[str] = field(default_factory=set)  # being converted in the background
    _preceding: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # store/preceding.py
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def num_rows(self) -> int:
        return self.data.num_rows

    @property
    def live_rows(self) -> int:
        return self.num_rows if self.live is None else int(self.live.sum())

    def with_parts(self, parts: tuple[Part, ...]) -> Block:
        """The same data with the parts' new deletions (the data itself never changes)."""
        live: np.ndarray | None = None
        for part in parts:
            if part.live is not None:
                if live is None:
                    live = np.ones(self.num_rows, dtype=bool)
                live[part.rows[~part.live]] = False
        return Block(
            data=self.data,
            vectors=self.vectors,
            inv_norms=self.inv_norms,
            parts=parts,
            live=live,
            _codes=self._codes,
            _masks=self._masks,  # masks cover the data only; `live` is applied on top
            _ids=self._ids,
            _lexical=self._lexical,
            _values=self._values,
            _complete=self._complete,
            _filling=self._filling,
            _preceding=self._preceding,
        )

    def values(self, columns: Sequence[str], rows: Sequence[int]) -> list[tuple[list[Any], bool]]:
        """Each column as Python values, at least at `rows` (others may be MISSING), and whether
        they are lists (mutable: callers get copies). Rows are converted from Arrow the first
        time a search reads them, in one `take` for all the columns, never whole columns: a
        block of 30,000 rows just merged or reloaded after compaction would take seconds. A
        bigger block's columns are filled in beside the searches (store/mirror_fill.py)."""
        out = []
        for column in columns:
            hit = self._values.get(column)
            if hit is None:
                if column not in self.data.column_names:
                    raise Unsupported(f"column {column!r} is not mirrored")
                hit = ([MISSING] * self.num_rows, self._is_list(column))
                with self._lock:
                    hit = self._values.setdefault(column, hit)
            out.append(hit)
        if self.num_rows <= WHOLE_COLUMNS:  # small enough: whole columns, once
            fresh = [c for c in columns if c not in self._complete]
            if not fresh:
                return out
            rows = range(self.num_rows)
        elif self._complete.issuperset(columns):
            return out  # filled in the background: nothing is missing
        else:
            mirror_fill.fill_later(self, columns, python_values)  # the rest, beside searches
        missing = sorted({row for values, _ in out for row in rows if values[row] is MISSING})
        if missing:
            taken = self.data.select(list(columns)).take(pa.array(missing, type=pa.int64()))
            for (values, _), column in zip(out, taken.columns, strict=True):
                for row, value in zip(missing, python_values(column), strict=True):
                    values[row] = value
        if self.num_rows <= WHOLE_COLUMNS:
            with self._lock:
                self._complete.update(columns)
        return out

    def _is_list(self, column: str) -> bool:
        kind = self.data.schema.field(column).type
        return pa.types.is_list(kind) or pa.types.is_large_list(kind)

    def postings(self, column: str) -> bm25.Postings:
        """The column's BM25 postings, built on first use (the data never changes)."""
        hit = self._lexical.get(column)
        if hit is None:
            if column not in self.data.column_names:
                raise Unsupported(f"no column {column!r}")
            hit = bm25.Postings.build(self.data.column(column))
            with self._lock:
                self._lexical[column] = hit
        return hit

    def lexical_stats(self, column: str) -> tuple[int, float]:
        """Live rows and their summed term count (BM25's statistics), once per block state."""
        hit = self._stats.get(column)
        if hit is None:
            hit = bm25.live_stats(self.postings(column), self.live)
            self._stats[column] = hit
        return hit

    def document_frequencies(self, column: str) -> dict[str, int]:
        """Live rows per term of the column, filled by BM25 as terms are searched (a common
        term's live count read ~20k postings each query at 100k rows)."""
        cache = self._frequencies.get(column)
        if cache is None:
            with self._lock:
                cache = self._frequencies.setdefault(column, {})
        return cache

    def row_of(self, row_id: str) -> int | None:
        if self._ids is None:
            with self._lock:
                if self._ids is None:
                    ids = self.data.column("id").to_pylist()
                    self._ids = {value: row for row, value in enumerate(ids)}
        row = self._ids.get(row_id)
        if row is None or (self.live is not None and not self.live[row]):
            return None
        return row

    def mask(self, where: Filter | None) -> np.ndarray:
        """Rows that are live and pass the filter."""
        return self.passing(where)[0]

    def passing(self, where: Filter | None) -> tuple[np.ndarray, np.ndarray]:
        """The mask of rows that are live and pass the filter, and those rows' positions: a
        search reads both, and at 100k rows finding the positions was ~0.1 ms per search."""
        hit = self._passing.get(where)
        if hit is not None:
            return hit
        if where is None:
            mask = np.ones(self.num_rows, dtype=bool) if self.live is None else self.live
        else:
            cached = self._data_mask(where)
            mask = cached if self.live is None else cached & self.live
        rows = np.flatnonzero(mask).astype(np.int32)  # half the memory of int64
        mask.flags.writeable = rows.flags.writeable = False  # shared by every search
        hit = (mask, rows)
        with self._lock:
            if len(self._passing) >= MASK_CACHE:
                self._passing.pop(next(iter(self._passing)))
            self._passing[where] = hit
        return hit

    def _data_mask(self, flt: Filter, parts: bool = True) -> np.ndarray:
        """The filter's mask over the data (`live` not applied), cached. An And's parts are
        cached too: focus's advice search is the scope AND two more parts, one filter per agent
        and task type, and recomputing the scope each time it fell out of the cache was ~1.7 ms
        at 100k rows."""
        cached = self._masks.get(flt)
        if cached is None:
            if parts and isinstance(flt, And):
                cached = np.logical_and.reduce([self._data_mask(p, False) for p in flt.parts])
            else:
                cached = mirror_masks.evaluate(self, flt)
            cached.flags.writeable = False
            with self._lock:
                if len(self._masks) >= MASK_CACHE:
                    self._masks.pop(next(iter(self._masks)))
                self._masks[flt] = cached
        return cached

    def column(self, name: str, whole: bool = True) -> pa.Array | pa.ChunkedArray:
        """A column of the data; as one array unless `whole` is False (a small block's values
        are read as Python values, and joining its chunks first cost more than that)."""
        if name not in self.data.column_names:
            raise Unsupported(f"no column {name!r}")
        column = self.data.column(name)
        return column.combine_chunks() if whole else column

    def coded(self, name: str) -> tuple[np.ndarray, dict[Any, int]]:
        """Dictionary codes of a column (nulls get -1), computed once per block."""
        hit = self._codes.get(name)
        if hit is None:
            small = self.num_rows <= mirror_masks.SMALL_BLOCK  # Arrow costs ~0.1 ms a column
            column = self.column(name, whole=not small)
            if pa.types.is_list(column.type):
                raise Unsupported(f"{name} is a list column")
            if small:
                lookup: dict[Any, int] = {}
                values = column.to_pylist()
                codes = np.fromiter(
                    (-1 if v is None else lookup.setdefault(v, len(lookup)) for v in values),
                    np.int32,
                    len(values),
                )
            else:
                encoded = pc.dictionary_encode(column)
                codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
                lookup = {value: code for code, value in enumerate(encoded.dictionary.to_pylist())}
            hit = (codes.astype(np.int32, copy=False), lookup)
            with self._lock:
                self._codes[name] = hit
        return hit


def load(
    read: Callable[[], pa.Table],
    key: tuple[Any, ...],
    deletion: str,
    vector_column: str,
    dim: int,
    cluster_by: str | None,
) -> Block:
    """A block of one fragment's rows, read by `read` (with `_rowaddr`), clustered by a column.
    The vectors leave Arrow before the reordering, and only this function holds the rows read,
    freed once copied: a compacted fragment of 10,000 memories is reloaded whole, and taking
    every column in order, then copying the vectors out, raised peak memory by ~100 MB."""
    table = read()
    order = None
    if cluster_by in table.column_names and table.num_rows > 1:
        order = _cluster_order(table.column(cluster_by))
    vectors_column = table.column(vector_column).combine_chunks()
    if vectors_column.null_count:
        raise Unsupported("null vectors")
    flat = vectors_column.flatten().to_numpy(zero_copy_only=False)
    vectors = np.asarray(flat, dtype=np.float32).reshape(-1, dim)
    offsets = _offsets(table.column("_rowaddr"))
    data = table.drop_columns([vector_column, "_rowaddr"])
    del table, vectors_column, flat  # the reordered copies below replace them
    if order is not None:
        vectors, offsets = vectors[order], offsets[order]
        data = data.take(pa.array(order))
    vectors = np.ascontiguousarray(vectors)
    data = data.combine_chunks()
    norms = np.linalg.norm(vectors, axis=1)
    inv_norms = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    part = Part(key, deletion, offsets, np.arange(len(offsets)), None)
    return Block(data, vectors, inv_norms.astype(np.float32), (part,))


def merge(blocks: list[Block], cluster_by: str | None) -> Block:
    """One block holding the rows of all (deleted ones too: their fragments still hold them),
    clustered by the column again; postings already built are merged, not rebuilt."""
    # One copy of the rows, not two: the tables are concatenated without copying, taken in
    # cluster order, the vectors written to their new rows (two copies: +60 MB peak at 10k).
    data = pa.concat_tables([b.data for b in blocks])
    order = None
    if cluster_by in data.column_names:
        order = _cluster_order(data.column(cluster_by))
        data = data.take(pa.array(order))
    data = data.combine_chunks()
    # position[i] = where the i-th concatenated row ends up
    total = data.num_rows
    position = np.empty(total, dtype=np.int64)
    position[order if order is not None else np.arange(total)] = np.arange(total)
    vectors = np.empty((total, blocks[0].vectors.shape[1]), dtype=blocks[0].vectors.dtype)
    inv_norms = np.empty(total, dtype=np.float32)
    base = 0
    for block in blocks:
        moved = position[base : base + block.num_rows]
        vectors[moved] = block.vectors
        inv_norms[moved] = block.inv_norms
        base += block.num_rows
    parts: list[Part] = []
    base = 0
    for block in blocks:
        for p in block.parts:
            parts.append(Part(p.key, p.deletion, p.offsets, position[p.rows + base], p.live))
        base += block.num_rows
    merged = Block(data, vectors, inv_norms, ()).with_parts(tuple(parts))
    # Postings any block has are kept; the others' come from their own (small, newer) rows.
    columns = set().union(*(b._lexical for b in blocks))
    for column in columns:
        postings = [b.postings(column) for b in blocks]
        merged._lexical[column] = bm25.Postings.merge(postings, position)
    return merged


def shrink(block: Block) -> Block:
    """The block without its dead rows (deleted, or of fragments that are gone), which Lance
    never brings back; postings are carried over, not rebuilt."""
    keep = np.ones(block.num_rows, dtype=bool) if block.live is None else block.live
    kept = np.flatnonzero(keep)
    position = np.full(block.num_rows, -1, dtype=np.int64)
    position[kept] = np.arange(kept.size)
    parts = []
    for p in block.parts:
        if p.key is None:
            continue
        alive = keep[p.rows]
        parts.append(Part(p.key, p.deletion, p.offsets[alive], position[p.rows[alive]], None))
    data = block.data.take(pa.array(kept)).combine_chunks()
    out = Block(data, block.vectors[kept], block.inv_norms[kept], tuple(parts))
    for column, postings in block._lexical.items():
        out._lexical[column] = postings.select(position, kept.size)
    return out


def gone(part: Part) -> Part:
    """The part of a fragment that no longer exists: its rows stay in the block, dead."""
    return Part(None, "", part.offsets, part.rows, np.zeros(part.rows.size, dtype=bool))


def python_values(column: pa.ChunkedArray | pa.Array) -> list[Any]:
    """A column's values as Python objects, like to_pylist(), except that UTC timestamps are
    converted as naive ones given a fixed UTC tzinfo: Arrow converts tz-aware timestamps through
    the zone database one value at a time (~25 ms for 80 rows of 3 timestamps, under load)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.tz in ("UTC", "+00:00", "Etc/UTC"):
        naive = column.cast(pa.timestamp(kind.unit)).to_pylist()
        return [None if v is None else v.replace(tzinfo=UTC) for v in naive]
    if (pa.types.is_string(kind) or pa.types.is_large_string(kind)) and len(column) >= 1024:
        # Whole columns: one object per distinct value saves memory. A search's few hundred
        # rows: encoding costs more (~50 us a column) than it saves.
        encoded = pc.dictionary_encode(column)
        if len(encoded.dictionary) * 2 <= len(column):  # repeated values: one object each
            words = encoded.dictionary.to_pylist()
            codes = encoded.indices.to_pylist()
            return [None if c is None else words[c] for c in codes]
    return column.to_pylist()


def _cluster_order(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Row order grouping equal values, by value (the same agent sorts the same in every block)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    values = [str(v) for v in encoded.dictionary.to_pylist()]
    rank = np.empty(len(values) + 1, dtype=np.int64)
    rank[0] = -1  # nulls first
    rank[1:] = np.argsort(np.argsort(np.asarray(values, dtype=object), kind="stable"))
    return np.argsort(rank[codes + 1], kind="stable")


def _offsets(addresses: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Row offsets within a fragment from Lance row addresses (fragment id << 32 | offset)."""
    values = np.asarray(addresses.to_numpy(), dtype=np.uint64)
    return (values & np.uint64(0xFFFFFFFF)).astype(np.int64)
