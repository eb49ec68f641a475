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
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import duckdb
import lancedb
import numpy as np
import pyarrow as pa
from lancedb.index import FTS

from .commit_lock import CommitLock
from .conditional import ConditionalWrites
from .errors import InvalidQuery, StoreClosed, StoreConflict, StoreUnavailable
from .filters import In, to_lance
from .maintenance import Compactor
from .maintenance import is_conflict as _is_conflict
from .mirror import TableMirror
from .reads import IDS_PER_WHERE, TableReads, chunks, guarded
from .redact import explain, scrub, secrets_of
from .tables import VECTOR, Catalog, TableSpec
from .write_queue import GroupCommit, Kind

log = logging.getLogger(__name__)
T = TypeVar("T")

_MAX_ATTEMPTS = 12
# How stale a read on an object store may be before LanceDB re-checks the table's latest
# version (one LIST request). version(), get() and the DuckDB scans always check; see
# docs/scaling.md. Local directories check on every read: it costs a directory listing.
OBJECT_STORE_CONSISTENCY = timedelta(seconds=1)
PROBE_TABLE = "_alma_probe"  # scratch table of `alma doctor`; never read by the core
_PROBE_SCHEMA = pa.schema([("id", pa.string()), ("at", pa.timestamp("us", tz="UTC"))])


def _version_of(result: Any) -> int:
    """The table version a LanceDB write result says its commit made (0 if it does not say)."""
    return int(getattr(result, "version", 0) or 0)


def is_object_store(uri: str) -> bool:
    """Whether a store URI names an object store (az://, s3://, gs://, ...), not a directory."""
    return "://" in uri and not uri.startswith(("memory://", "file://"))


class LanceStore(TableReads):
    """The storage interface the core uses; see the public methods below."""

    def __init__(
        self,
        uri: str,
        *,
        vector_dim: int,
        tables: Iterable[TableSpec],
        storage_options: dict[str, str] | None = None,
        compact_every: int = 256,
        cleanup_older_than: timedelta = timedelta(minutes=10),
        vector_index_min_rows: int = 50_000,
        read_consistency_interval: timedelta | None = None,
        background_compaction: bool = True,
        mirror: bool = True,
    ) -> None:
        self.uri = uri
        self.vector_dim = vector_dim
        self.catalog = Catalog(tables, vector_dim)  # the caller's table definitions
        self.compact_every = compact_every
        self.cleanup_older_than = cleanup_older_than
        self.vector_index_min_rows = vector_index_min_rows
        self._in_memory = uri.startswith("memory://")
        self._options = dict(storage_options or {})
        self._secrets = secrets_of(self._options)
        if read_consistency_interval is None:
            read_consistency_interval = (
                OBJECT_STORE_CONSISTENCY if is_object_store(uri) else timedelta(0)
            )
        self.read_consistency_interval = read_consistency_interval
        self._db = self._connect(read_consistency_interval)
        self._maintenance_db: Any = None
        self._tables: dict[str, Any] = {}
        self._maintenance_tables: dict[str, Any] = {}
        self._datasets: dict[str, tuple[int, Any]] = {}
        self._committed: dict[str, int] = {}  # latest version each table's commits made
        self._fts_ready: set[str] = set()
        self._mirrors: dict[str, TableMirror] = {}
        # Append handles (see _append): their own connection, opened on the first append.
        self._append_db: Any = None
        self._append_tables: dict[str, tuple[Any, int]] = {}
        # Exact in-process vector search (store/mirror.py) on local disk; an object store would
        # pay a request per refresh, and memory:// has no Lance fragments to mirror.
        self.mirror_enabled = mirror and not self._in_memory and not is_object_store(uri)
        self._lock = threading.RLock()
        self._duck = duckdb.connect(":memory:")
        self._writer = GroupCommit(self._commit)
        local = not self._in_memory and not is_object_store(uri)
        self._commit_lock = CommitLock(uri.removeprefix("file://")) if local else None
        self._conditional = ConditionalWrites(self, self._commit_lock)
        self._closed = False
        self._compactor = Compactor(
            self._table if self._in_memory else self._maintenance_table,
            every=compact_every,
            cleanup_older_than=cleanup_older_than,
            vector_index_min_rows=vector_index_min_rows,
            spec_of=self.catalog.spec,
            background=background_compaction and not self._in_memory,
            scrub=self._scrub,
            tiered=not self._in_memory,
        )

    def _connect(self, interval: timedelta | None) -> Any:
        try:
            return lancedb.connect(
                self.uri,
                read_consistency_interval=interval,
                storage_options=self._options or None,
            )
        except Exception as exc:
            error = self._translate(exc)
            if error is exc:
                error = StoreUnavailable(self.uri, self._scrub(str(exc))[:1000])
            raise error from None

    # ------------------------------------------------------------------ errors

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secrets)

    def _leaks(self, exc: BaseException) -> bool:
        return self._scrub(str(exc)) != str(exc)

    def _translate(self, exc: BaseException, doing: str = "") -> BaseException:
        """A storage failure as StoreUnavailable with a short, secret-free reason."""
        text = str(exc)
        reason = explain(text)
        if reason is None and not isinstance(exc, OSError) and not self._leaks(exc):
            return exc  # not a storage failure: a bug or bad input, keep it as it is
        reason = reason or self._scrub(text)[:1000]
        return StoreUnavailable(self.uri, f"{doing}{reason}")

    # ------------------------------------------------------------------ tables

    def schema(self, table: str) -> pa.Schema:
        return self.catalog.schema(table)

    def _table(self, name: str) -> Any:
        tbl = self._tables.get(name)  # the hot path takes no lock
        if tbl is not None:
            return tbl
        with self._lock:
            tbl = self._tables.get(name)
            if tbl is not None:
                return tbl
            schema = self.schema(name)
            try:
                tbl = self._db.open_table(name)
            except Exception as exc:
                if explain(str(exc)) is not None:  # the store itself is unreachable
                    raise self._translate(exc, f"cannot open table {name!r}: ") from None
                tbl = self._create_table(name, schema)
            self._check_schema(name, tbl, schema)
            self._tables[name] = tbl
            return tbl

    def _create_table(self, name: str, schema: pa.Schema) -> Any:
        try:
            tbl = self._with_retries(
                name, lambda: self._db.create_table(name, schema=schema, exist_ok=True)
            )
        except StoreConflict:
            raise
        except Exception as exc:
            error = self._translate(exc, f"cannot create table {name!r}: ")
            if error is exc:
                error = StoreUnavailable(self.uri, f"cannot create table {name!r}: {exc}")
            raise error from None if self._leaks(exc) else exc
        # The FTS index is built now, on the empty table, so no write ever waits for it; rows
        # written later are searched unindexed until compaction folds them in.
        fts = self.catalog.spec(name).fts_column
        if fts is not None:
            try:
                tbl.create_index(fts, config=FTS(with_position=False))
            except Exception as exc:  # another process created it first: fine
                log.debug("FTS index of %s not created here: %s", name, self._scrub(str(exc)))
        return tbl

    def _maintenance_table(self, name: str) -> Any:
        """A handle of the compactor's own, so compaction never holds the writers' handle."""
        with self._lock:
            if self._maintenance_db is None:
                self._maintenance_db = self._connect(timedelta(0))
            tbl = self._maintenance_tables.get(name)
            if tbl is None:
                self._table(name)  # created (and checked) through the main handle
                tbl = self._maintenance_db.open_table(name)
                self._maintenance_tables[name] = tbl
            return tbl

    def _check_schema(self, name: str, tbl: Any, expected: pa.Schema) -> None:
        actual = tbl.schema
        vec = actual.field(VECTOR) if VECTOR in actual.names else None
        if vec is not None and vec.type.list_size != self.vector_dim:
            raise StoreUnavailable(
                self.uri,
                f"table {name!r} holds {vec.type.list_size}-dimensional vectors but the embedder "
                f"makes {self.vector_dim}-dimensional ones; use the store's embedder",
            )
        missing = [f for f in expected.names if f not in actual.names]
        added = [f for f in missing if f in self.catalog.spec(name).migrated]
        if added:
            self._migrate(name, tbl, [expected.field(f) for f in added])
            missing = [f for f in missing if f not in added]
        if missing:
            raise StoreUnavailable(self.uri, f"table {name!r} lacks columns {missing}")

    def _migrate(self, name: str, tbl: Any, fields: list[pa.Field]) -> None:
        """Add columns a newer release defines (all null) to a table made by an older one."""
        lock = self._commit_lock
        with lock.hold(name) if lock is not None else _nothing():
            tbl.checkout_latest()
            todo = [f for f in fields if f.name not in tbl.schema.names]  # another process?
            if todo:
                self._with_retries(name, lambda: tbl.add_columns(todo))
                if lock is not None:
                    lock.set_stamp(name, 0)  # appenders re-check the latest version

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
                        cause = RuntimeError(self._scrub(str(exc))[:1000])
                        raise StoreConflict(table, attempt, cause) from None
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")

    def _to_arrow(self, table: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
        schema = self.schema(table)
        columns = []
        for field in schema:
            values = [row.get(field.name) for row in rows]
            if field.name == VECTOR:
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

    @guarded
    def add(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Append rows in one commit (one table version however many rows).

        Concurrent calls from threads of this process are grouped into one commit (see
        store/write_queue.py); the call returns once its rows are committed.
        """
        if not rows:
            return
        data = self._to_arrow(table, rows)
        self._write(table, "add", data)

    @guarded
    def add_many(self, batches: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> None:
        """Append rows to several tables (one commit each), the commits running at the same time.

        For a write that lands in two tables, a memory and its audit event: their commits
        overlap instead of queueing (on 2 cores about 2-4 ms of a ~20 ms single write). Every
        batch is converted, so validated, before any commit starts: bad input commits nothing.
        Returns once every commit succeeded. Not a transaction: a failed commit is raised after
        the others finished and leaves them committed, and a crash can leave any subset of the
        batches committed.
        """
        data = [(table, self._to_arrow(table, rows)) for table, rows in batches if rows]
        self._writer.submit_all([(table, "add", payload) for table, payload in data])
        for table, _ in data:
            self._compactor.note_write(table, self._committed.get(table, 0))

    @guarded
    def upsert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows, or replace whole rows that share an id, in one commit."""
        if not rows:
            return
        ids = [row.get("id") for row in rows]
        if len(set(ids)) != len(ids):
            raise InvalidQuery("upsert rows must have distinct ids")
        data = self._to_arrow(table, rows)
        self._write(table, "upsert", data)

    @guarded
    def delete(self, table: str, ids: Sequence[str]) -> int:
        """Delete rows by id; returns how many existed."""
        if not ids:
            return 0
        existing = self.count(table, In("id", tuple(ids)))
        for chunk in chunks(list(ids), IDS_PER_WHERE):
            self._write(table, "delete", to_lance(In("id", tuple(chunk)), self.schema(table)))
        return existing

    @guarded
    def update_if(
        self, table: str, rows: Sequence[dict[str, Any]], expected: Mapping[str, int]
    ) -> None:
        """Replace whole rows only if each still has the version the caller read (compare and
        set); each row must carry `version` = expected + 1. Raises VersionConflict, writing
        nothing, when any row changed or vanished. See store/conditional.py."""
        if rows:
            self._conditional.update_if(table, self._to_arrow(table, rows), expected)

    @guarded
    def delete_if(self, table: str, expected: Mapping[str, int]) -> None:
        """Delete rows only if each still has the expected version; else VersionConflict."""
        self._conditional.delete_if(table, expected)

    @guarded
    def add_new(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Append rows whose ids are not in the table yet; else VersionConflict, nothing added."""
        if rows:
            self._conditional.add_new(table, self._to_arrow(table, rows))

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a named lock for a check-then-write section (one at a time per name): across
        processes on a local store, across this process's threads on memory:// and object
        stores."""
        if self._closed:
            raise StoreClosed(self.uri)
        with self._conditional.exclusive(name):
            yield

    def _write(self, table: str, kind: Kind, payload: Any) -> None:
        self._writer.submit(table, kind, payload)
        self._compactor.note_write(table, self._committed.get(table, 0))

    def _commit(self, table: str, kind: Kind, payload: Any) -> None:
        """One Lance commit, retried while concurrent commits conflict (called by GroupCommit).

        On a local disk it holds the table's cross-process commit lock (store/commit_lock.py)
        and appends through a handle of its own (see _append).
        """
        tbl = self._table(table)
        lock = self._commit_lock
        if lock is None:
            result = self._commit_now(tbl, table, kind, payload)
        else:
            with lock.hold(table):
                if kind == "add":
                    result = self._append(table, payload, lock.stamp(table))
                else:
                    result = self._commit_now(tbl, table, kind, payload)
                lock.set_stamp(table, _version_of(result))  # 0 (unknown): appenders re-check
        version = _version_of(result)
        self._committed[table] = max(self._committed.get(table, 0), version)

    def _append(self, table: str, data: pa.Table, stamp: int | None) -> Any:
        """Append through a handle that skips LanceDB's read-consistency checks (local disk).

        The store's own handles re-check the table's latest version on every call (they serve
        reads, which must be fresh). On a local disk that lists the table's _versions directory,
        three times per add plus once after: ~1.5 ms per commit with a few hundred versions, more
        as versions pile up between cleanups. A blind append reads nothing, so here it goes
        through a handle that never re-checks; Lance's commit protocol still rebases it onto
        anything committed meanwhile (appends never conflict).

        Rebasing over many versions is slow (~0.6 s over 1000), so the handle is moved to the
        latest version first unless the commit lock's stamp shows that the last locked commit
        was this handle's own: then only unlocked commits (compaction) can have come between.
        Upserts and deletes read the table and keep using the checked handle.
        """
        handle, version = self._append_handle(table)
        if stamp is None or stamp != version:
            handle.checkout_latest()

        def append() -> Any:
            try:
                return handle.add(data)
            except Exception as exc:
                if _is_conflict(exc):
                    handle.checkout_latest()  # the next attempt starts from the latest version
                raise

        result = self._with_retries(table, append)
        self._append_tables[table] = (handle, _version_of(result))
        return result

    def _append_handle(self, table: str) -> tuple[Any, int]:
        """The table's append handle and the version its last append made (0: none yet)."""
        entry = self._append_tables.get(table)  # the hot path takes no lock
        if entry is not None:
            return entry
        with self._lock:
            if self._append_db is None:
                self._append_db = self._connect(None)  # None: never re-check the latest version
            entry = self._append_tables.get(table)
            if entry is None:
                self._table(table)  # created (and checked) through the main handle
                entry = (self._append_db.open_table(table), 0)
                self._append_tables[table] = entry
            return entry

    def _commit_now(self, tbl: Any, table: str, kind: Kind, payload: Any) -> Any:
        if kind == "add":
            return self._with_retries(table, lambda: tbl.add(payload))
        if kind == "upsert":
            return self._with_retries(
                table,
                lambda: (
                    tbl.merge_insert("id")
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .execute(payload)
                ),
            )
        return self._with_retries(table, lambda: tbl.delete(payload))

    # ------------------------------------------------------------------ maintenance

    @guarded
    def compact(self, table: str | None = None) -> None:
        """Merge small fragments, fold new rows into indexes and drop old versions, now.

        Writes also compact in the background (store/maintenance.py). Best effort under
        concurrency: a compaction that loses a race with another process's is skipped.
        """
        names = [table] if table else [n for n in self.catalog.names if self._exists(n)]
        for name in names:
            self._compactor.compact_now(name, self._table(name))

    def _exists(self, name: str) -> bool:
        if name in self._tables:
            return True
        try:
            self._tables[name] = self._db.open_table(name)
            return True
        except Exception:
            return False

    @guarded
    def version(self, table: str) -> int:
        """The table's latest committed version; moves whenever any process writes.

        Always asks the store (one manifest check), so a cache keyed on it is never stale.
        """
        cached = self._datasets.get(table)
        if cached is not None and not self._in_memory:
            return int(cached[1].latest_version)  # the same check, without LanceDB's event loop
        tbl = self._table(table)
        tbl.checkout_latest()
        return int(tbl.version)

    @guarded
    def fragment_count(self, table: str) -> int:
        tbl = self._table(table)
        tbl.checkout_latest()
        return int(tbl.stats()["fragment_stats"]["num_fragments"])

    @guarded
    def probe(self) -> dict[str, float]:
        """Write, read back and delete one row in a scratch table (`alma doctor`).

        Returns the milliseconds each step took; raises StoreUnavailable saying why the store
        cannot be reached or written (missing container or bucket, rejected credentials, ...).
        """
        timings: dict[str, float] = {}
        started = time.perf_counter()

        def lap(step: str) -> None:
            nonlocal started
            now = time.perf_counter()
            timings[step] = (now - started) * 1000
            started = now

        probe_id = uuid.uuid4().hex
        try:
            tbl = self._db.open_table(PROBE_TABLE)
        except Exception as exc:
            if explain(str(exc)) is not None:
                raise
            tbl = self._db.create_table(PROBE_TABLE, schema=_PROBE_SCHEMA, exist_ok=True)
        lap("open_ms")
        row = pa.table({"id": [probe_id], "at": [datetime.now(UTC)]}, schema=_PROBE_SCHEMA)
        self._with_retries(PROBE_TABLE, lambda: tbl.add(row))
        lap("write_ms")
        where = to_lance(In("id", (probe_id,)), _PROBE_SCHEMA)
        found = tbl.search().where(where).limit(1).to_arrow().num_rows
        lap("read_ms")
        self._with_retries(PROBE_TABLE, lambda: tbl.delete(where))
        lap("delete_ms")
        if found != 1:
            raise StoreUnavailable(self.uri, "a row written by the probe could not be read back")
        return timings

    @property
    def commits(self) -> tuple[int, int]:
        """(commits made, writes they carried) by this handle: group commit at work."""
        return self._writer.commits, self._writer.writes

    def wait_for_maintenance(self, timeout: float | None = None) -> None:
        """Wait for background compactions started by this handle (tests, benchmarks, close)."""
        self._compactor.wait(timeout)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Finish background work and refuse every later call (StoreClosed); idempotent.

        Once it returns this handle writes nothing more under the store's location."""
        if self._closed:
            return
        self._closed = True
        self._compactor.stop()
        self._writer.close()
        self._compactor.wait(timeout=60)
        if self._commit_lock is not None:
            self._commit_lock.close()
        self._duck.close()


@contextmanager
def _nothing() -> Iterator[None]:
    yield
