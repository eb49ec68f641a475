"""LanceStore: LanceDB tables as the system of record, DuckDB in-process for scans and analytics.

Every table lives in one LanceDB directory (or object-store URI, or `memory://` for tests).
DuckDB reads the same data through Arrow (pylance datasets on disk, Arrow tables in memory) and
keeps no file of its own, so any number of processes can share one store.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import duckdb
import lancedb
import numpy as np
import pyarrow as pa
from lancedb.index import FTS, BTree, IvfHnswSq
from lancedb.query import MatchQuery

from store import schemas
from store.errors import InvalidQuery, StoreConflict, StoreUnavailable
from store.filters import Filter, In, to_duckdb, to_lance

log = logging.getLogger(__name__)
T = TypeVar("T")

_MAX_ATTEMPTS = 12
_IDS_PER_WHERE = 500


def _is_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "conflict" in text or "retryable" in text or ("commit" in text and "retry" in text)


class LanceStore:
    """The storage interface the core uses; see the public methods below."""

    def __init__(
        self,
        uri: str,
        *,
        vector_dim: int,
        storage_options: dict[str, str] | None = None,
        compact_every: int = 256,
        cleanup_older_than: timedelta = timedelta(minutes=10),
        vector_index_min_rows: int = 50_000,
    ) -> None:
        self.uri = uri
        self.vector_dim = vector_dim
        self.compact_every = compact_every
        self.cleanup_older_than = cleanup_older_than
        self.vector_index_min_rows = vector_index_min_rows
        self._in_memory = uri.startswith("memory://")
        try:
            self._db = lancedb.connect(
                uri,
                read_consistency_interval=timedelta(0),
                storage_options=storage_options,
            )
        except Exception as exc:
            raise StoreUnavailable(uri, str(exc)) from exc
        self._tables: dict[str, Any] = {}
        self._fts_ready: set[str] = set()
        self._writes_since_compact: dict[str, int] = {}
        self._lock = threading.RLock()
        self._duck = duckdb.connect(":memory:")

    # ------------------------------------------------------------------ tables

    def schema(self, table: str) -> pa.Schema:
        return schemas.schema_for(table, self.vector_dim)

    def _table(self, name: str) -> Any:
        with self._lock:
            tbl = self._tables.get(name)
            if tbl is not None:
                return tbl
            schema = self.schema(name)
            try:
                tbl = self._db.open_table(name)
            except Exception:
                try:
                    tbl = self._with_retries(
                        name,
                        lambda: self._db.create_table(name, schema=schema, exist_ok=True),
                    )
                except StoreConflict:
                    raise
                except Exception as exc:
                    raise StoreUnavailable(
                        self.uri, f"cannot create table {name!r}: {exc}"
                    ) from exc
            self._check_schema(name, tbl, schema)
            self._tables[name] = tbl
            return tbl

    def _check_schema(self, name: str, tbl: Any, expected: pa.Schema) -> None:
        actual = tbl.schema
        vec = actual.field(schemas.VECTOR) if schemas.VECTOR in actual.names else None
        if vec is not None and vec.type.list_size != self.vector_dim:
            raise StoreUnavailable(
                self.uri,
                f"table {name!r} holds {vec.type.list_size}-dimensional vectors but the embedder "
                f"makes {self.vector_dim}-dimensional ones; use the store's embedder",
            )
        missing = [f for f in expected.names if f not in actual.names]
        if missing:
            raise StoreUnavailable(self.uri, f"table {name!r} lacks columns {missing}")

    def _with_retries(self, table: str, op: Callable[[], T]) -> T:
        """Run a write, retrying with jittered backoff while concurrent commits conflict."""
        delay = 0.01
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                return op()
            except (InvalidQuery, StoreUnavailable):
                raise
            except Exception as exc:
                if not _is_conflict(exc) or attempt == _MAX_ATTEMPTS:
                    if _is_conflict(exc):
                        raise StoreConflict(table, attempt, exc) from exc
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")

    def _to_arrow(self, table: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
        schema = self.schema(table)
        columns = []
        for field in schema:
            values = [row.get(field.name) for row in rows]
            if field.name == schemas.VECTOR:
                columns.append(self._vector_array(values))
            else:
                try:
                    columns.append(pa.array(values, type=field.type))
                except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                    raise InvalidQuery(f"bad value for column {field.name!r}: {exc}") from exc
        return pa.Table.from_arrays(columns, schema=schema)

    def _vector_array(self, values: list[Any]) -> pa.Array:
        if any(v is None for v in values):
            raise InvalidQuery("every row needs a vector")
        matrix = np.asarray(values, dtype=np.float32).reshape(len(values), -1)
        if matrix.shape[1] != self.vector_dim:
            raise InvalidQuery(
                f"vectors must have {self.vector_dim} dimensions, got {matrix.shape[1]}"
            )
        if not np.isfinite(matrix).all():
            raise InvalidQuery("vectors must be finite")
        return pa.FixedSizeListArray.from_arrays(pa.array(matrix.ravel()), self.vector_dim)

    # ------------------------------------------------------------------ writes

    def add(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Append rows in one commit (one table version however many rows)."""
        if not rows:
            return
        data = self._to_arrow(table, rows)
        tbl = self._table(table)
        self._with_retries(table, lambda: tbl.add(data))
        self._after_write(table, tbl)

    def upsert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows, or replace whole rows that share an id, in one commit."""
        if not rows:
            return
        data = self._to_arrow(table, rows)
        tbl = self._table(table)
        self._with_retries(
            table,
            lambda: (
                tbl.merge_insert("id")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(data)
            ),
        )
        self._after_write(table, tbl)

    def delete(self, table: str, ids: Sequence[str]) -> int:
        """Delete rows by id; returns how many existed."""
        if not ids:
            return 0
        tbl = self._table(table)
        existing = self.count(table, In("id", tuple(ids)))
        for chunk in _chunks(list(ids), _IDS_PER_WHERE):
            where = to_lance(In("id", tuple(chunk)), self.schema(table))
            self._with_retries(table, lambda w=where: tbl.delete(w))
        self._after_write(table, tbl)
        return existing

    def _after_write(self, table: str, tbl: Any) -> None:
        if schemas.FTS_COLUMN in tbl.schema.names and table not in self._fts_ready:
            self._ensure_fts(table, tbl)
        count = self._writes_since_compact.get(table, 0) + 1
        self._writes_since_compact[table] = count
        if count >= self.compact_every:
            self.compact(table)

    def _ensure_fts(self, table: str, tbl: Any) -> None:
        if any(idx.index_type == "FTS" for idx in tbl.list_indices()):
            self._fts_ready.add(table)
            return
        try:
            self._with_retries(
                table,
                lambda: tbl.create_index(
                    schemas.FTS_COLUMN, config=FTS(with_position=False), replace=False
                ),
            )
        except Exception as exc:
            if "exist" not in str(exc).lower():
                raise
        self._fts_ready.add(table)

    # ------------------------------------------------------------------ maintenance

    def compact(self, table: str | None = None) -> None:
        """Merge small fragments, fold new rows into indexes and drop old versions.

        Best effort under concurrency: a compaction that loses a race is retried later.
        """
        names = [table] if table else [n for n in schemas.TABLES if self._exists(n)]
        for name in names:
            tbl = self._table(name)
            self._writes_since_compact[name] = 0
            try:
                self._ensure_indexes(name, tbl)
                tbl.optimize(cleanup_older_than=self.cleanup_older_than)
            except Exception as exc:
                if not _is_conflict(exc):
                    raise
                log.info("compaction of %s deferred: %s", name, exc)

    def _ensure_indexes(self, name: str, tbl: Any) -> None:
        rows = tbl.count_rows()
        if rows == 0:
            return
        present = {tuple(idx.columns) for idx in tbl.list_indices()}
        if ("id",) not in present:
            tbl.create_index("id", config=BTree(), replace=False)
        if schemas.FTS_COLUMN in tbl.schema.names and (schemas.FTS_COLUMN,) not in present:
            tbl.create_index(schemas.FTS_COLUMN, config=FTS(with_position=False), replace=False)
        if (
            schemas.VECTOR in tbl.schema.names
            and (schemas.VECTOR,) not in present
            and rows >= self.vector_index_min_rows
        ):
            partitions = max(1, int(rows**0.5 / 4))
            tbl.create_index(
                schemas.VECTOR,
                config=IvfHnswSq(distance_type="cosine", num_partitions=partitions),
                replace=False,
            )

    def _exists(self, name: str) -> bool:
        if name in self._tables:
            return True
        try:
            self._tables[name] = self._db.open_table(name)
            return True
        except Exception:
            return False

    def version(self, table: str) -> int:
        """The table's latest committed version; moves whenever any process writes."""
        tbl = self._table(table)
        tbl.checkout_latest()
        return int(tbl.version)

    def fragment_count(self, table: str) -> int:
        return int(self._table(table).stats()["fragment_stats"]["num_fragments"])

    # ------------------------------------------------------------------ reads

    def get(
        self, table: str, ids: Sequence[str], columns: Sequence[str] | None = None
    ) -> list[dict]:
        """Rows with the given ids (any order; missing ids are simply absent)."""
        if not ids:
            return []
        tbl = self._table(table)
        out: list[dict] = []
        for chunk in _chunks(list(dict.fromkeys(ids)), _IDS_PER_WHERE):
            query = tbl.search().where(to_lance(In("id", tuple(chunk)), self.schema(table)))
            if columns:
                query = query.select(list(columns))
            out.extend(query.limit(len(chunk)).to_arrow().to_pylist())
        return out

    def scan(
        self,
        table: str,
        where: Filter | None = None,
        *,
        columns: Sequence[str] | None = None,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict]:
        """Filtered, ordered, paged rows, read by DuckDB over the table's Arrow data."""
        return self.scan_arrow(
            table,
            where,
            columns=columns,
            order_by=order_by,
            descending=descending,
            limit=limit,
            offset=offset,
        ).to_pylist()

    def scan_arrow(
        self,
        table: str,
        where: Filter | None = None,
        *,
        columns: Sequence[str] | None = None,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> pa.Table:
        schema = self.schema(table)
        cols = list(columns) if columns else schema.names
        for c in [*cols, *([order_by] if order_by else [])]:
            if c not in schema.names:
                raise InvalidQuery(f"unknown column {c!r} in table {table!r}")
        condition, params = to_duckdb(where, schema)
        sql = f"SELECT {', '.join(_quote(c) for c in cols)} FROM {_quote(table)} WHERE {condition}"
        if order_by:
            sql += f" ORDER BY {_quote(order_by)} {'DESC' if descending else 'ASC'}, id"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [int(limit), int(offset)]
        return self.sql(sql, params, tables=[table])

    def count(self, table: str, where: Filter | None = None) -> int:
        if where is None:
            return int(self._table(table).count_rows())
        condition, params = to_duckdb(where, self.schema(table))
        result = self.sql(
            f"SELECT count(*) AS n FROM {_quote(table)} WHERE {condition}", params, tables=[table]
        )
        return int(result.column("n")[0].as_py())

    def sql(
        self, query: str, params: Sequence[Any] = (), *, tables: Iterable[str] | None = None
    ) -> pa.Table:
        """Run read-only DuckDB SQL over the store's tables (registered under their names)."""
        cursor = self._duck.cursor()
        try:
            for name in tables if tables is not None else schemas.TABLES:
                cursor.register(name, self._arrow_source(name))
            return cursor.sql(query, params=list(params)).to_arrow_table()
        except duckdb.Error as exc:
            raise InvalidQuery(f"query failed: {exc}") from exc
        finally:
            cursor.close()

    def _arrow_source(self, name: str) -> Any:
        tbl = self._table(name)
        if self._in_memory:
            return tbl.to_arrow()
        tbl.checkout_latest()
        return tbl.to_lance()

    def vector_search(
        self,
        table: str,
        vector: Sequence[float] | np.ndarray,
        *,
        where: Filter | None = None,
        limit: int = 10,
        columns: Sequence[str] | None = None,
    ) -> list[dict]:
        """Nearest rows by cosine distance (`_distance`), filtered before the search."""
        tbl = self._table(table)
        query = tbl.search(np.asarray(vector, dtype=np.float32), vector_column_name=schemas.VECTOR)
        query = query.distance_type("cosine").limit(limit)
        clause = to_lance(where, self.schema(table))
        if clause:
            query = query.where(clause, prefilter=True)
        if columns:
            query = query.select([*columns, "_distance"])
        return query.to_arrow().to_pylist()

    def text_search(
        self,
        table: str,
        text: str,
        *,
        where: Filter | None = None,
        limit: int = 10,
        columns: Sequence[str] | None = None,
    ) -> list[dict]:
        """BM25 full-text matches (`_score`) from LanceDB's FTS index; the text is not parsed."""
        if not text.strip():
            return []
        tbl = self._table(table)
        if table not in self._fts_ready:
            if tbl.count_rows() == 0:
                return []
            self._ensure_fts(table, tbl)
        query = tbl.search(MatchQuery(text, schemas.FTS_COLUMN), query_type="fts").limit(limit)
        clause = to_lance(where, self.schema(table))
        if clause:
            query = query.where(clause, prefilter=True)
        if columns:
            query = query.select([*columns, "_score"])
        return query.to_arrow().to_pylist()

    def close(self) -> None:
        self._duck.close()


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
