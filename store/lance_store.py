"""LanceStore: LanceDB tables as the system of record, DuckDB in-process for scans and analytics.

Every table lives in one LanceDB directory (or object-store URI, or `memory://` for tests).
DuckDB reads the same data through Arrow (pylance datasets on disk, Arrow tables in memory) and
keeps no file of its own, so any number of processes can share one store.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from .commit_lock import CommitLock
from .commits import Commits
from .conditional import ConditionalWrites
from .errors import InvalidQuery, StoreClosed, StoreError
from .filters import In, to_lance
from .handles import TableHandles
from .maintenance import Compactor
from .mirror import TableMirror
from .probe import probe
from .reads import IDS_PER_WHERE, TableReads, chunks
from .redact import Failures
from .tables import Catalog, TableSpec
from .write_queue import GroupCommit, Kind

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

# How stale a read on an object store may be before LanceDB re-checks the table's latest
# version (one LIST request). version(), get() and the DuckDB scans always check; see
# docs/scaling.md. Local directories check on every read: it costs a directory listing.
OBJECT_STORE_CONSISTENCY = timedelta(seconds=1)


def is_object_store(uri: str) -> bool:
    """Whether a store URI names an object store (az://, s3://, gs://, ...), not a directory."""
    return "://" in uri and not uri.startswith(("memory://", "file://"))


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
            error = self._failures.translate(exc)
            if error is exc:
                raise
            raise error from None if self._failures.leaks(exc) else exc

    return wrapper  # type: ignore[return-value]


def _read(method: Callable[..., T]) -> Callable[..., T]:
    """A TableReads method as a guarded method of the store, with its name, docstring and
    signature."""

    @functools.wraps(method)
    def read(self: LanceStore, *args: Any, **kwargs: Any) -> T:
        return method(self._reads, *args, **kwargs)

    return guarded(read)


class LanceStore:
    """The storage interface the core uses; see the public methods below.

    A facade over collaborators, one job each: TableHandles (connections, tables, schema
    checks), TableReads, Commits (how a write reaches Lance) behind GroupCommit (batching),
    ConditionalWrites (compare-and-set) and the Compactor (store/maintenance.py).
    """

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
        self._failures = Failures(uri, storage_options)
        if read_consistency_interval is None:
            read_consistency_interval = (
                OBJECT_STORE_CONSISTENCY if is_object_store(uri) else timedelta(0)
            )
        self.read_consistency_interval = read_consistency_interval
        local = not self._in_memory and not is_object_store(uri)
        self._commit_lock = CommitLock(uri.removeprefix("file://")) if local else None
        self._handles = TableHandles(
            uri,
            self.catalog,
            self._failures,
            storage_options=dict(storage_options or {}),
            read_consistency_interval=read_consistency_interval,
            commit_lock=self._commit_lock,
        )
        # Exact in-process vector search (store/mirror.py) on local disk; an object store would
        # pay a request per refresh, and memory:// has no Lance fragments to mirror.
        self.mirror_enabled = mirror and local
        self._mirrors: dict[str, TableMirror] = {}
        self._duck = duckdb.connect(":memory:")
        self._reads = TableReads(
            self._handles,
            self.catalog,
            self._failures,
            self._duck,
            mirrors=self._mirrors,
            mirror_enabled=self.mirror_enabled,
        )
        self._commits = Commits(self._handles, self._commit_lock, on_append=self._reads.note_append)
        self._writer = GroupCommit(self._commits.commit)
        self._compactor = Compactor(
            self._handles.table if self._in_memory else self._handles.maintenance_table,
            spec_of=self.catalog.spec,
            every=compact_every,
            cleanup_older_than=cleanup_older_than,
            vector_index_min_rows=vector_index_min_rows,
            background=background_compaction and not self._in_memory,
            scrub=self._failures.scrub,
            tiered=not self._in_memory,
        )
        self._conditional = ConditionalWrites(
            self._handles, self._commit_lock, on_commit=self._note_commit
        )
        self._closed = False

    def schema(self, table: str) -> pa.Schema:
        return self.catalog.schema(table)

    # ------------------------------------------------------------------ reads
    # TableReads does the reading (store/reads.py has the docstrings); the store guards it.

    get = _read(TableReads.get)
    lookup = _read(TableReads.lookup)
    scan = _read(TableReads.scan)
    count = _read(TableReads.count)
    sql = _read(TableReads.sql)
    vector_search = _read(TableReads.vector_search)
    text_search = _read(TableReads.text_search)
    warm = _read(TableReads.warm)

    # ------------------------------------------------------------------ writes

    @guarded
    def add(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Append rows in one commit (one table version however many rows).

        Concurrent calls from threads of this process are grouped into one commit (see
        store/write_queue.py); the call returns once its rows are committed.
        """
        if not rows:
            return
        self._write(table, "add", self.catalog.to_arrow(table, rows))

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
        data = [(table, self.catalog.to_arrow(table, rows)) for table, rows in batches if rows]
        self._writer.submit_all([(table, "add", payload) for table, payload in data])
        for table, _ in data:
            self._compactor.note_write(table, self._commits.committed.get(table, 0))

    @guarded
    def upsert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows, or replace whole rows that share an id, in one commit."""
        if not rows:
            return
        ids = [row.get("id") for row in rows]
        if len(set(ids)) != len(ids):
            raise InvalidQuery("upsert rows must have distinct ids")
        self._write(table, "upsert", self.catalog.to_arrow(table, rows))

    @guarded
    def delete(self, table: str, ids: Sequence[str]) -> int:
        """Delete rows by id; returns how many existed."""
        if not ids:
            return 0
        existing = self._reads.count(table, In("id", tuple(ids)))
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
            self._conditional.update_if(table, self.catalog.to_arrow(table, rows), expected)

    @guarded
    def delete_if(self, table: str, expected: Mapping[str, int]) -> None:
        """Delete rows only if each still has the expected version; else VersionConflict."""
        self._conditional.delete_if(table, expected)

    @guarded
    def add_new(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Append rows whose ids are not in the table yet; else VersionConflict, nothing added."""
        if rows:
            self._conditional.add_new(table, self.catalog.to_arrow(table, rows))

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
        self._compactor.note_write(table, self._commits.committed.get(table, 0))

    def _note_commit(self, table: str, version: int) -> None:
        """A commit made outside the write queue (conditional writes): tell the compactor."""
        self._compactor.note_write(table, self._commits.record(table, version))

    def _append_handle(self, table: str) -> tuple[Any, int]:
        """The table's append handle and the version its last append made (see commits.py)."""
        return self._handles.append_handle(table)

    # ------------------------------------------------------------------ maintenance

    @guarded
    def compact(self, table: str | None = None) -> None:
        """Merge small fragments, fold new rows into indexes and drop old versions, now.

        Writes also compact in the background (store/maintenance.py). Best effort under
        concurrency: a compaction that loses a race with another process's is skipped.
        """
        names = [table] if table else [n for n in self.catalog.names if self._handles.exists(n)]
        for name in names:
            self._compactor.compact_now(name, self._handles.table(name))

    def snapshot(self) -> AbstractContextManager[None]:
        """Reads in the block (this thread's) see each table at one version, checked once."""
        return self._handles.snapshot()

    @guarded
    def version(self, table: str) -> int:
        """The table's latest committed version; moves whenever any process writes.

        Always asks the store (one manifest check), so a cache keyed on it is never stale.
        """
        cached = self._handles.datasets.get(table)
        if cached is not None and not self._in_memory:
            # the same check, without LanceDB's event loop
            return self._handles.latest_version(table, cached[1])
        tbl = self._handles.table(table)
        tbl.checkout_latest()
        return self._handles.pin(table, int(tbl.version))

    @guarded
    def fragment_count(self, table: str) -> int:
        tbl = self._handles.table(table)
        tbl.checkout_latest()
        return int(tbl.stats()["fragment_stats"]["num_fragments"])

    @guarded
    def probe(self) -> dict[str, float]:
        """Write, read back and delete one row in a scratch table (`alma doctor`).

        Returns the milliseconds each step took; raises StoreUnavailable saying why the store
        cannot be reached or written (missing container or bucket, rejected credentials, ...).
        """
        return probe(self._handles)

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
