"""The reads of one store: lookups by id, DuckDB scans and SQL, vector and BM25 search.

LanceStore holds one TableReads and hands it what reads need: the table handles, the catalog,
the error translation and its DuckDB connection. Reads on an object store may lag other hosts'
writes by up to the store's read_consistency_interval, except where freshness matters (get,
scans, version()).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from lancedb.index import FTS
from lancedb.query import MatchQuery

from .errors import InvalidQuery
from .filters import Filter, In, to_duckdb, to_lance
from .handles import TableHandles
from .mirror import TableMirror, Unsupported
from .preceding import Preceding
from .redact import Failures, explain
from .tables import VECTOR, Catalog

log = logging.getLogger(__name__)
IDS_PER_WHERE = 500
CLAUSES_KEPT = 256  # rendered filters remembered (one or two per agent view)
MISSING = object()


class TableReads:
    """Reading methods of one store; LanceStore guards them (closed store, error translation)."""

    def __init__(
        self,
        handles: TableHandles,
        catalog: Catalog,
        failures: Failures,
        duck: duckdb.DuckDBPyConnection,
        *,
        mirrors: dict[str, TableMirror],
        mirror_enabled: bool,
    ) -> None:
        self._handles = handles
        self._catalog = catalog
        self._failures = failures
        self._duck = duck
        self._mirrors = mirrors  # LanceStore's, so tests and benchmarks can look at them
        self._mirror_enabled = mirror_enabled
        self._fts_ready: set[str] = set()
        self._clauses: dict[tuple[str, Filter], str | None] = {}

    def get(
        self, table: str, ids: Sequence[str], columns: Sequence[str] | None = None
    ) -> list[dict]:
        """Rows with the given ids (any order; missing ids are simply absent).

        Always reads the latest version, inside snapshot() too: callers read-modify-write what
        it returns (their conditional write then refuses a row that moved since). From the
        mirror once a search has made one, moved to that version first (a Lance query cost
        ~10 ms a read at 100k rows, three of them in a write that supersedes a memory), else
        from LanceDB.
        """
        if not ids:
            return []
        # Only a mirror a search made: a process that only reads by id (the CLI showing one
        # memory) must not load a copy of the whole table for it.
        mirrored = self._mirrored(table, latest=True) if table in self._mirrors else None
        if mirrored is not None:
            try:
                return self._from_mirror(mirrored, ids, columns)
            except Unsupported as exc:
                log.debug("mirror cannot answer a read of %s: %s", table, exc)
        tbl = self._handles.fresh(table)
        out: list[dict] = []
        for chunk in chunks(list(dict.fromkeys(ids)), IDS_PER_WHERE):
            query = tbl.search().where(
                to_lance(In("id", tuple(chunk)), self._catalog.schema(table))
            )
            if columns:
                query = query.select(list(columns))
            out.extend(query.limit(len(chunk)).to_arrow().to_pylist())
        return out

    def lookup(
        self, table: str, ids: Sequence[str], columns: Sequence[str] | None = None
    ) -> list[dict]:
        """Rows with the given ids for a read that will not be written back (derived data a
        search needs for a few of its hits): from the mirror, moved to the latest version, in
        well under a millisecond; get() (a Lance query, ~5 ms at 100k rows) where there is none.
        """
        if not ids:
            return []
        mirrored = self._mirrored(table)
        if mirrored is not None:
            try:
                return self._from_mirror(mirrored, ids, columns)
            except Unsupported:
                pass
        return self.get(table, ids, columns)

    def _from_mirror(
        self,
        mirrored: tuple[TableMirror, list[Any], Any],
        ids: Sequence[str],
        columns: Sequence[str] | None,
    ) -> list[dict]:
        """The rows of these ids in the mirror's blocks (raises Unsupported for a column the
        mirror lacks)."""
        mirror, blocks, _ = mirrored
        unique = list(dict.fromkeys(ids))
        rows = mirror.by_ids(blocks, ((i, 0.0) for i in unique), None, len(unique), columns)
        for row in rows:
            row.pop("_score", None)
        return rows

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
        schema = self._catalog.schema(table)
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

    def count(self, table: str, where: Filter | None = None) -> int:
        if where is None:
            return int(self._handles.fresh(table).count_rows())
        condition, params = to_duckdb(where, self._catalog.schema(table))
        result = self.sql(
            f"SELECT count(*) AS n FROM {quote(table)} WHERE {condition}", params, tables=[table]
        )
        return int(result.column("n")[0].as_py())

    def sql(
        self, query: str, params: Sequence[Any] = (), *, tables: Iterable[str] | None = None
    ) -> pa.Table:
        """Run read-only DuckDB SQL over the store's tables (registered under their names)."""
        cursor = self._duck.cursor()
        try:
            for name in tables if tables is not None else self._catalog.names:
                cursor.register(name, self._handles.arrow_source(name))
            return cursor.sql(query, params=list(params)).to_arrow_table()
        except duckdb.Error as exc:
            if explain(str(exc)) is not None:
                raise self._failures.translate(exc) from None
            message = f"query failed: {self._failures.scrub(str(exc))}"
            raise InvalidQuery(message) from None if self._failures.leaks(exc) else exc
        finally:
            cursor.close()

    def vector_search(
        self,
        table: str,
        vector: Sequence[float] | np.ndarray,
        *,
        where: Filter | None = None,
        limit: int = 10,
        columns: Sequence[str] | None = None,
        preceding: Preceding | None = None,
    ) -> list[dict]:
        """Nearest rows by cosine distance (`_distance`), filtered before the search.

        Answered exactly from the in-process mirror where there is one (store/mirror.py), else
        by LanceDB (with its approximate index on big tables). `preceding` lets a row match
        through the row written just before it (store/preceding.py); the mirror only: LanceDB's
        search ranks by each row's own vector."""
        clause = self._clause(table, where)  # validates the filter either way
        mirrored = self._mirrored(table)
        if mirrored is not None:
            mirror, fragments, _dataset = mirrored
            try:
                query = np.asarray(vector, dtype=np.float32)
                return mirror.nearest(fragments, query, where, limit, columns, preceding)
            except Unsupported as exc:
                log.debug("mirror cannot answer a search on %s: %s", table, exc)
        tbl = self._handles.table(table)
        query = tbl.search(np.asarray(vector, dtype=np.float32), vector_column_name=VECTOR)
        query = query.distance_type("cosine").limit(limit)
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
        prefilter: bool = True,
        overfetch: int = 1,
        matched: bool = False,
    ) -> list[dict]:
        """BM25 full-text matches (`_score`); the text is not parsed. With `matched`, rows from
        the mirror also carry `_matched`: the row's IDF-weighted share of the query's terms
        (store/bm25.py rank); LanceDB's FTS index gives none.

        Answered from the in-process mirror where there is one (store/bm25.py: the filter applies
        before ranking either way, and rows written since LanceDB's FTS index was last optimized
        cost nothing extra), else by LanceDB's FTS index. There, with prefilter=False the filter
        applies to the `limit * overfetch` best matches of the whole table (about half the cost
        on a large table), and the first `limit` that pass are returned.
        """
        if not text.strip():
            return []
        clause = self._clause(table, where)  # validates the filter either way
        column = self._fts_column(table)
        mirrored = self._mirrored(table)
        if mirrored is not None:
            mirror, fragments, _dataset = mirrored
            try:
                return mirror.lexical(fragments, text, column, where, limit, columns, matched)
            except Unsupported as exc:
                log.debug("mirror cannot answer a text search on %s: %s", table, exc)
        tbl = self._handles.table(table)
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

    def warm(self, table: str, filters: Sequence[Filter] = ()) -> None:
        """Move the table's mirror to its latest version now, and prepare the masks of
        `filters` there (beside other work, such as the embedding a write computes before its
        near-duplicate search); a no-op without a mirror."""
        mirrored = self._mirrored(table)
        if mirrored is None:
            return
        for block in mirrored[1]:
            for where in filters:
                try:
                    block.passing(where)
                except Unsupported:
                    return  # the search will fall back to LanceDB and say why

    def note_append(self, table: str, version: int, rows: pa.Table) -> None:
        """This process appended `rows`, making `version`: the table's mirror, if it has one,
        takes them from memory at its next refresh (TableMirror.note_append)."""
        mirror = self._mirrors.get(table)
        if mirror is not None:
            mirror.note_append(version, rows)

    def _clause(self, table: str, where: Filter | None) -> str | None:
        """The filter's LanceDB `where` string, remembered: an agent's searches repeat the same
        few filters, and rendering a nested one (every value escaped) cost ~0.1 ms a search."""
        try:
            key = (table, where)
            hit = self._clauses.get(key, MISSING)
        except TypeError:  # a filter holding an unhashable value: render it every time
            return to_lance(where, self._catalog.schema(table))
        if hit is MISSING:
            hit = to_lance(where, self._catalog.schema(table))
            if len(self._clauses) >= CLAUSES_KEPT:
                self._clauses.clear()
            self._clauses[key] = hit
        return hit  # type: ignore[return-value]

    def _mirrored(
        self, table: str, *, latest: bool = False
    ) -> tuple[TableMirror, list[Any], Any] | None:
        """The table's mirror moved to its latest version (inside snapshot() the pinned one,
        unless `latest`) with that version's Lance dataset, or None where there is none."""
        if not self._mirror_enabled or not self._catalog.has_vector(table):
            return None
        mirror = self._mirrors.get(table)
        if mirror is None:
            dim = self._catalog.schema(table).field(VECTOR).type.list_size
            cluster = self._catalog.spec(table).cluster_column
            mirror = self._mirrors.setdefault(table, TableMirror(VECTOR, dim, cluster))
        try:
            dataset = self._handles.arrow_source(table, latest=latest)
            return mirror, mirror.refresh(dataset), dataset
        except Unsupported as exc:
            log.debug("table %s is not mirrored: %s", table, exc)
            return None

    def _fts_column(self, table: str) -> str:
        column = self._catalog.spec(table).fts_column
        if column is None:
            raise InvalidQuery(f"table {table!r} has no full-text index")
        return column

    def _ensure_fts(self, table: str, tbl: Any) -> None:
        if any(idx.index_type == "FTS" for idx in tbl.list_indices()):
            self._fts_ready.add(table)
            return
        try:
            self._handles.with_retries(
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
