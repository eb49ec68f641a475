"""An in-process copy of a table with vectors, for exact vector search in about a millisecond.

LanceDB answers a filtered vector search in 7-11 ms at 100k memories on two cores, most of it
fixed cost (planning, the prefilter mask, fetching each hit's columns), and its HNSW index is
approximate. Retrieval does one per task, so the copy here does it instead: the table's rows as
Arrow, its vectors as a float32 matrix, the filter evaluated in numpy, a brute-force cosine over
the rows that pass. At 100k memories that is ~370 MB of memory (~3.7 KB per row) and ~2-3 ms
per search, exact.

It is never stale: every search first moves the copy to the table's latest version. Lance
fragments are immutable (data files never change; updates and deletes write a new deletion file
and new fragments), so moving costs only what changed: new fragments are read, a fragment whose
deletion file changed gets its live-row mask re-read (row addresses only, ~8 ms per 100k rows),
vanished fragments are dropped. Anything the copy cannot answer (an unsupported filter, a
column it lacks) makes the caller fall back to LanceDB's own search.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import bm25
from .filters import And, Eq, Filter, HasAny, In, Or, Range

MASK_CACHE = 32  # filters remembered per fragment (one per agent view, typically)


class Unsupported(Exception):
    """The copy cannot answer this request exactly; use LanceDB's search."""


@dataclass
class _Fragment:
    """One Lance fragment's live rows: Arrow columns, a vector matrix, their physical offsets."""

    key: tuple[Any, ...]
    deletion: str
    data: pa.Table
    vectors: np.ndarray  # (rows, dim) float32
    inv_norms: np.ndarray  # 1/|v|, 0 for zero vectors
    offsets: np.ndarray  # physical row offsets within the fragment
    live: np.ndarray | None = None  # rows deleted since loading are False
    _codes: dict[str, tuple[np.ndarray, dict[Any, int]]] = field(default_factory=dict)
    _masks: dict[Filter, np.ndarray] = field(default_factory=dict)
    _ids: dict[str, int] | None = None
    _lexical: dict[str, bm25.Postings] = field(default_factory=dict)  # by text column
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def with_deletions(self, deletion: str, live_offsets: np.ndarray) -> _Fragment:
        """A copy sharing the data, with a new live mask (the data itself never changes)."""
        live = np.isin(self.offsets, live_offsets, assume_unique=True)
        return _Fragment(
            key=self.key,
            deletion=deletion,
            data=self.data,
            vectors=self.vectors,
            inv_norms=self.inv_norms,
            offsets=self.offsets,
            live=None if live.all() else live,
            _codes=self._codes,
            _masks=self._masks,  # masks cover the data only; `live` is applied on top
            _ids=self._ids,
            _lexical=self._lexical,
        )

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
        cached = self._masks.get(where) if where is not None else None
        if cached is None:
            cached = (
                np.ones(self.data.num_rows, dtype=bool) if where is None else self._evaluate(where)
            )
            if where is not None:
                with self._lock:
                    if len(self._masks) >= MASK_CACHE:
                        self._masks.pop(next(iter(self._masks)))
                    self._masks[where] = cached
        return cached if self.live is None else cached & self.live

    def _evaluate(self, flt: Filter) -> np.ndarray:
        if isinstance(flt, And):
            out = np.ones(self.data.num_rows, dtype=bool)
            for part in flt.parts:
                out &= self._evaluate(part)
            return out
        if isinstance(flt, Or):
            out = np.zeros(self.data.num_rows, dtype=bool)
            for part in flt.parts:
                out |= self._evaluate(part)
            return out
        if isinstance(flt, Eq | In):
            values = (flt.value,) if isinstance(flt, Eq) else flt.values
            codes, lookup = self._coded(flt.column)
            wanted = [lookup[v] for v in values if _hashable(v) and v in lookup]
            if not wanted:
                return np.zeros(self.data.num_rows, dtype=bool)
            return np.isin(codes, np.asarray(wanted, dtype=codes.dtype))
        if isinstance(flt, HasAny):
            column = self._column(flt.column)
            if not pa.types.is_list(column.type):
                raise Unsupported(f"{flt.column} is not a list column")
            out = np.zeros(self.data.num_rows, dtype=bool)
            flat = pc.list_flatten(column)
            if len(flat):
                hit = pc.is_in(flat, value_set=pa.array(list(flt.values), type=flat.type))
                parents = pc.list_parent_indices(column).to_numpy()
                out[parents[hit.fill_null(False).to_numpy(zero_copy_only=False)]] = True
            return out
        if isinstance(flt, Range):
            column = self._column(flt.column)
            result = pa.array(np.ones(self.data.num_rows, dtype=bool))
            if flt.low is not None:
                result = pc.and_(result, pc.greater_equal(column, _scalar(flt.low, column.type)))
            if flt.high is not None:
                result = pc.and_(result, pc.less_equal(column, _scalar(flt.high, column.type)))
            return result.fill_null(False).to_numpy(zero_copy_only=False)
        raise Unsupported(f"filter {type(flt).__name__} is not evaluated in memory")

    def _column(self, name: str) -> pa.Array:
        if name not in self.data.column_names:
            raise Unsupported(f"no column {name!r}")
        return self.data.column(name).combine_chunks()

    def _coded(self, name: str) -> tuple[np.ndarray, dict[Any, int]]:
        """Dictionary codes of a column (nulls get -1), computed once per fragment."""
        hit = self._codes.get(name)
        if hit is None:
            column = self._column(name)
            if pa.types.is_list(column.type):
                raise Unsupported(f"{name} is a list column")
            encoded = pc.dictionary_encode(column)
            codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            lookup = {value: code for code, value in enumerate(encoded.dictionary.to_pylist())}
            hit = (codes.astype(np.int32, copy=False), lookup)
            with self._lock:
                self._codes[name] = hit
        return hit


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _scalar(value: Any, arrow_type: pa.DataType) -> pa.Scalar:
    try:
        return pa.scalar(value, type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise Unsupported(f"cannot compare {arrow_type} with {value!r}") from exc


class TableMirror:
    """The live rows of one table at its latest version, searchable by vector and by id."""

    def __init__(self, vector_column: str, dim: int, cluster_by: str | None = None) -> None:
        self.vector_column = vector_column
        self.dim = dim
        # Rows are kept grouped by this column (the owning agent), so that a search filtered on
        # it multiplies one contiguous block of the matrix instead of gathering scattered rows.
        self.cluster_by = cluster_by
        self.version: int | None = None
        self._fragments: list[_Fragment] = []
        self._lock = threading.Lock()
        self.loads = 0  # fragments read in full (for tests)

    @property
    def rows(self) -> int:
        return sum(
            f.data.num_rows if f.live is None else int(f.live.sum()) for f in self._fragments
        )

    def refresh(self, dataset: Any) -> list[_Fragment]:
        """Move to the dataset's version, reading only what changed; returns the fragments."""
        version = int(dataset.version)
        with self._lock:
            if version == self.version:
                return self._fragments
            known = {f.key: f for f in self._fragments}
            fragments: list[_Fragment] = []
            for fragment in dataset.get_fragments():
                meta = fragment.metadata
                key = (fragment.fragment_id, tuple(df.path for df in meta.files))
                deletion = repr(meta.deletion_file)
                cached = known.get(key)
                if cached is None:
                    cached = self._load(fragment, key, deletion)
                elif cached.deletion != deletion:
                    live = fragment.to_table(columns=[], with_row_address=True)
                    offsets = _offsets(live.column("_rowaddr"))
                    cached = cached.with_deletions(deletion, offsets)
                fragments.append(cached)
            self._fragments = fragments
            self.version = version
            return fragments

    def _load(self, fragment: Any, key: tuple[Any, ...], deletion: str) -> _Fragment:
        table = fragment.to_table(with_row_address=True)
        if self.cluster_by in table.column_names and table.num_rows > 1:
            column = table.column(self.cluster_by).combine_chunks()
            codes = (
                pc.dictionary_encode(column).indices.fill_null(-1).to_numpy(zero_copy_only=False)
            )
            table = table.take(pa.array(np.argsort(codes, kind="stable")))
        offsets = _offsets(table.column("_rowaddr"))
        vectors_column = table.column(self.vector_column).combine_chunks()
        if vectors_column.null_count:
            raise Unsupported("null vectors")
        flat = vectors_column.flatten().to_numpy(zero_copy_only=False)
        vectors = np.ascontiguousarray(flat, dtype=np.float32).reshape(-1, self.dim)
        norms = np.linalg.norm(vectors, axis=1)
        inv_norms = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        data = table.drop_columns([self.vector_column, "_rowaddr"]).combine_chunks()
        self.loads += 1
        return _Fragment(
            key=key,
            deletion=deletion,
            data=data,
            vectors=vectors,
            inv_norms=inv_norms.astype(np.float32),
            offsets=offsets,
        )

    def nearest(
        self,
        fragments: Sequence[_Fragment],
        vector: np.ndarray,
        where: Filter | None,
        limit: int,
        columns: Sequence[str] | None,
    ) -> list[dict]:
        """The `limit` rows passing `where` nearest by cosine, with `_distance` (1 - cosine),
        like LanceDB's exact search."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.dim:
            raise Unsupported(f"query has {query.shape[0]} dimensions, table {self.dim}")
        norm = float(np.linalg.norm(query))
        query = query / norm if norm > 0 else query
        found: list[tuple[np.ndarray, np.ndarray, int]] = []
        for index, fragment in enumerate(fragments):
            rows = np.flatnonzero(fragment.mask(where))
            if rows.size == 0:
                continue
            low, high = int(rows[0]), int(rows[-1]) + 1
            if high - low <= 2 * rows.size:  # mostly one block: multiply it in place
                products = (fragment.vectors[low:high] @ query)[rows - low]
            else:
                products = fragment.vectors[rows] @ query
            similarity = products * fragment.inv_norms[rows]
            if rows.size > limit:
                best = np.argpartition(-similarity, limit - 1)[:limit]
                rows, similarity = rows[best], similarity[best]
            found.append((rows, 1.0 - similarity, index))
        if not found:
            return []
        rows = np.concatenate([r for r, _, _ in found])
        distances = np.concatenate([d for _, d, _ in found])
        owners = np.concatenate([np.full(r.size, i) for r, _, i in found])
        order = np.argsort(distances, kind="stable")[:limit]
        hits = [(int(owners[i]), int(rows[i]), float(distances[i])) for i in order]
        return self._rows(fragments, hits, columns, "_distance")

    def lexical(
        self,
        fragments: Sequence[_Fragment],
        text: str,
        text_column: str,
        where: Filter | None,
        limit: int,
        columns: Sequence[str] | None,
    ) -> list[dict]:
        """The `limit` rows passing `where` that best match `text` by BM25, with `_score`."""
        postings = [f.postings(text_column) for f in fragments]
        allowed = [f.mask(where) for f in fragments]
        hits = bm25.rank(postings, [f.live for f in fragments], allowed, text, limit)
        return self._rows(fragments, hits, columns, "_score")

    def by_ids(
        self,
        fragments: Sequence[_Fragment],
        scored_ids: Iterable[tuple[str, float]],
        where: Filter | None,
        limit: int,
        columns: Sequence[str] | None,
    ) -> list[dict]:
        """Rows for (id, score) pairs in the given order that pass `where`, with `_score`."""
        masks: dict[int, np.ndarray] = {}
        hits: list[tuple[int, int, float]] = []
        for row_id, score in scored_ids:
            for index, fragment in enumerate(fragments):
                row = fragment.row_of(row_id)
                if row is None:
                    continue
                if index not in masks:
                    masks[index] = fragment.mask(where)
                if masks[index][row]:
                    hits.append((index, row, score))
                break
            if len(hits) >= limit:
                break
        return self._rows(fragments, hits, columns, "_score")

    def _rows(
        self,
        fragments: Sequence[_Fragment],
        hits: list[tuple[int, int, float]],
        columns: Sequence[str] | None,
        score_column: str,
    ) -> list[dict]:
        by_fragment: dict[int, list[int]] = {}
        for position, (index, _row, _value) in enumerate(hits):
            by_fragment.setdefault(index, []).append(position)
        out: list[dict] = [{} for _ in hits]
        for index, positions in by_fragment.items():
            fragment = fragments[index]
            data = fragment.data
            wanted = list(columns) if columns else [*data.column_names, self.vector_column]
            with_vector = self.vector_column in wanted
            names = [c for c in wanted if c != self.vector_column]
            missing = [c for c in names if c not in data.column_names]
            if missing:
                raise Unsupported(f"columns {missing} are not mirrored")
            rows = [hits[p][1] for p in positions]
            records = _pylist(data.select(names).take(pa.array(rows, type=pa.int64())))
            for position, row, record in zip(positions, rows, records, strict=True):
                if with_vector:
                    record[self.vector_column] = fragment.vectors[row].tolist()
                record[score_column] = hits[position][2]
                out[position] = record
        return out


def _pylist(table: pa.Table) -> list[dict]:
    """Table.to_pylist(), with UTC timestamps converted as naive ones plus a fixed UTC tzinfo:
    Arrow converts tz-aware timestamps through the zone database one value at a time, which was
    most of a search's cost (~25 ms for 80 rows of 3 timestamps, measured under load)."""
    utc = [
        name
        for name, kind in zip(table.column_names, table.schema.types, strict=True)
        if pa.types.is_timestamp(kind) and kind.tz in ("UTC", "+00:00", "Etc/UTC")
    ]
    if not utc:
        return table.to_pylist()
    for name in utc:
        index = table.column_names.index(name)
        naive = table.column(index).cast(pa.timestamp(table.schema.field(index).type.unit))
        table = table.set_column(index, name, naive)
    records = table.to_pylist()
    for record in records:
        for name in utc:
            value = record[name]
            if value is not None:
                record[name] = value.replace(tzinfo=UTC)
    return records


def _offsets(addresses: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Row offsets within a fragment from Lance row addresses (fragment id << 32 | offset)."""
    values = np.asarray(addresses.to_numpy(), dtype=np.uint64)
    return (values & np.uint64(0xFFFFFFFF)).astype(np.int64)
