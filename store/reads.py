"""The read half of LanceStore: lookups by id, DuckDB scans and SQL, vector and BM25 search.

A mixin only to keep modules small; it relies on LanceStore's table handles (`_table`), schemas
and error translation. Reads on an object store may lag other hosts' writes by up to the
store's read_consistency_interval, except where freshness matters (get, scans, version()).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa
from lancedb.index import FTS
from lancedb.query import MatchQuery

from .errors import InvalidQuery, StoreClosed, StoreError
from .filters import Filter, In, to_duckdb, to_lance
from .mirror import TableMirror, Unsupported
from .redact import explain
from .tables import VECTOR, Catalog

if TYPE_CHECKING:
    from .lance_store import LanceStore

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
IDS_PER_WHERE = 500


def guarded(method: F) -> F:
    """Errors leave the store as StoreError without secrets; object-store failures explained."""

    @functools.wraps(method)
    def wrapper(self: LanceStore, *args: Any, **kwargs: Any) -> Any:
        if self._closed:
            raise StoreClosed(self.uri)
        try:
            return method(self, *args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            error = self._translate(exc)
            if error is exc:
                raise
            raise error from None if self._leaks(exc) else exc

    return wrapper  # type: ignore[return-value]


class TableReads:
    """Reading methods of LanceStore (see there for the attributes they use)."""

    uri: str
    catalog: Catalog
    read_consistency_interval: timedelta
    _in_memory: bool
    _datasets: dict[str, tuple[int, Any]]
    _fts_ready: set[str]
    _mirrors: dict[str, TableMirror]
    mirror_enabled: bool
    _duck: duckdb.DuckDBPyConnection
    _closed: bool

    if TYPE_CHECKING:  # provided by LanceStore

        def schema(self, table: str) -> pa.Schema: ...
        def _table(self, name: str) -> Any: ...
        def _translate(self, exc: BaseException, doing: str = "") -> BaseException: ...
        def _leaks(self, exc: BaseException) -> bool: ...
        def _scrub(self, text: str) -> str: ...
        def _with_retries(self, table: str, op: Callable[[], Any]) -> Any: ...

    @guarded
    def get(
        self, table: str, ids: Sequence[str], columns: Sequence[str] | None = None
    ) -> list[dict]:
        """Rows with the given ids (any order; missing ids are simply absent).

        Always reads the latest version: callers read-modify-write what it returns.
        """
        if not ids:
            return []
        tbl = self._fresh(table)
        out: list[dict] = []
        for chunk in chunks(list(dict.fromkeys(ids)), IDS_PER_WHERE):
            query = tbl.search().where(to_lance(In("id", tuple(chunk)), self.schema(table)))
            if columns:
                query = query.select(list(columns))
            out.extend(query.limit(len(chunk)).to_arrow().to_pylist())
        return out

    @guarded
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
        schema = self.schema(table)
        cols = list(columns) if columns else schema.names
        for c in [*cols, *([order_by] if order_by else [])]:
            if c not in schema.names:
                raise InvalidQuery(f"unknown column {c!r} in table {table!r}")
        condition, params = to_duckdb(where, schema)
        sql = f"SELECT {', '.join(quote(c) for c in cols)} FROM {quote(table)} WHERE {condition}"
        if order_by:
            sql += f" ORDER BY {quote(order_by)} {'DESC' if descending else 'ASC'}, id"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [int(limit), int(offset)]
        return self.sql(sql, params, tables=[table]).to_pylist()

    @guarded
    def count(self, table: str, where: Filter | None = None) -> int:
        if where is None:
            return int(self._fresh(table).count_rows())
        condition, params = to_duckdb(where, self.schema(table))
        result = self.sql(
            f"SELECT count(*) AS n FROM {quote(table)} WHERE {condition}", params, tables=[table]
        )
        return int(result.column("n")[0].as_py())

    @guarded
    def sql(
        self, query: str, params: Sequence[Any] = (), *, tables: Iterable[str] | None = None
    ) -> pa.Table:
        """Run read-only DuckDB SQL over the store's tables (registered under their names)."""
        cursor = self._duck.cursor()
        try:
            for name in tables if tables is not None else self.catalog.names:
                cursor.register(name, self._arrow_source(name))
            return cursor.sql(query, params=list(params)).to_arrow_table()
        except duckdb.Error as exc:
            if explain(str(exc)) is not None:
                raise self._translate(exc) from None
            message = f"query failed: {self._scrub(str(exc))}"
            raise InvalidQuery(message) from None if self._leaks(exc) else exc
        finally:
            cursor.close()

    def _fresh(self, table: str) -> Any:
        """The table handle at its latest version (a no-op check when reads always check)."""
        tbl = self._table(table)
        if self.read_consistency_interval > timedelta(0):
            tbl.checkout_latest()
        return tbl

    def _arrow_source(self, name: str) -> Any:
        """The table's data for DuckDB: the Lance dataset of its latest version, opened once
        per version (on an object store opening one costs requests; versions never change)."""
        tbl = self._table(name)
        if self._in_memory:
            return tbl.to_arrow()
        cached = self._datasets.get(name)
        if cached is not None:
            # One listing of the versions, ~0.03 ms; LanceDB's checkout_latest + version cost
            # ~0.6 ms (two trips through its event loop), and a retrieve checks two or three times.
            version = int(cached[1].latest_version)
            if cached[0] == version:
                return cached[1]
        else:
            tbl.checkout_latest()
            version = int(tbl.version)
        # Moving the previous version's dataset keeps its session, so the FTS and vector index
        # caches survive a write: ~2.5 ms cheaper to open and ~2.5 ms per first search after.
        dataset = tbl.to_lance() if cached is None else cached[1].checkout_version(version)
        self._datasets[name] = (version, dataset)
        return dataset

    @guarded
    def vector_search(
        self,
        table: str,
        vector: Sequence[float] | np.ndarray,
        *,
        where: Filter | None = None,
        limit: int = 10,
        columns: Sequence[str] | None = None,
    ) -> list[dict]:
        """Nearest rows by cosine distance (`_distance`), filtered before the search.

        Answered exactly from the in-process mirror where there is one (store/mirror.py), else
        by LanceDB (with its approximate index on big tables)."""
        clause = to_lance(where, self.schema(table))  # validates the filter either way
        mirrored = self._mirrored(table)
        if mirrored is not None:
            mirror, fragments, _dataset = mirrored
            try:
                return mirror.nearest(
                    fragments, np.asarray(vector, dtype=np.float32), where, limit, columns
                )
            except Unsupported as exc:
                log.debug("mirror cannot answer a search on %s: %s", table, exc)
        tbl = self._table(table)
        query = tbl.search(np.asarray(vector, dtype=np.float32), vector_column_name=VECTOR)
        query = query.distance_type("cosine").limit(limit)
        if clause:
            query = query.where(clause, prefilter=True)
        if columns:
            query = query.select([*columns, "_distance"])
        return query.to_arrow().to_pylist()

    @guarded
    def text_search(
        self,
        table: str,
        text: str,
        *,
        where: Filter | None = None,
        limit: int = 10,
        columns: Sequence[str] | None = None,
        prefilter: bool = True,
        overfetch: int = 1,
    ) -> list[dict]:
        """BM25 full-text matches (`_score`); the text is not parsed.

        Answered from the in-process mirror where there is one (store/bm25.py: the filter applies
        before ranking either way, and rows written since LanceDB's FTS index was last optimized
        cost nothing extra), else by LanceDB's FTS index. There, with prefilter=False the filter
        applies to the `limit * overfetch` best matches of the whole table (about half the cost
        on a large table), and the first `limit` that pass are returned.
        """
        if not text.strip():
            return []
        clause = to_lance(where, self.schema(table))  # validates the filter either way
        column = self._fts_column(table)
        mirrored = self._mirrored(table)
        if mirrored is not None:
            mirror, fragments, _dataset = mirrored
            try:
                return mirror.lexical(fragments, text, column, where, limit, columns)
            except Unsupported as exc:
                log.debug("mirror cannot answer a text search on %s: %s", table, exc)
        tbl = self._table(table)
        if table not in self._fts_ready:
            if tbl.count_rows() == 0:
                return []
            self._ensure_fts(table, tbl)
        ranked = limit if prefilter or not clause else limit * max(1, overfetch)
        query = tbl.search(MatchQuery(text, column), query_type="fts").limit(ranked)
        if clause:
            query = query.where(clause, prefilter=prefilter)
        if columns:
            query = query.select([*columns, "_score"])
        return query.to_arrow().to_pylist()[:limit]

    def _mirrored(self, table: str) -> tuple[TableMirror, list[Any], Any] | None:
        """The table's mirror moved to its latest version with that version's Lance dataset,
        or None where there is none."""
        if not self.mirror_enabled or not self.catalog.has_vector(table):
            return None
        mirror = self._mirrors.get(table)
        if mirror is None:
            dim = self.schema(table).field(VECTOR).type.list_size
            cluster = self.catalog.spec(table).cluster_column
            mirror = self._mirrors.setdefault(table, TableMirror(VECTOR, dim, cluster))
        try:
            dataset = self._arrow_source(table)
            return mirror, mirror.refresh(dataset), dataset
        except Unsupported as exc:
            log.debug("table %s is not mirrored: %s", table, exc)
            return None

    def _fts_column(self, table: str) -> str:
        column = self.catalog.spec(table).fts_column
        if column is None:
            raise InvalidQuery(f"table {table!r} has no full-text index")
        return column

    def _ensure_fts(self, table: str, tbl: Any) -> None:
        if any(idx.index_type == "FTS" for idx in tbl.list_indices()):
            self._fts_ready.add(table)
            return
        try:
            self._with_retries(
                table,
                lambda: tbl.create_index(
                    self._fts_column(table), config=FTS(with_position=False), replace=False
                ),
            )
        except Exception as exc:
            if "exist" not in str(exc).lower():
                raise
        self._fts_ready.add(table)


def chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
