"""The LanceDB side of one store: connections and table handles, opened once and shared.

Opening a table creates it (with its FTS index) when it is missing, checks its vector size and
columns against the caller's TableSpec, and adds the spec's migrated columns to a table made by
an older release. Writes retry here while concurrent commits conflict. Three kinds of handle:
- the main handles serve reads and read-modify-write commits (fresh on every call locally);
- append handles never re-check the latest version (store/commits.py says why);
- maintenance handles are the compactor's own, so compaction never holds the writers'.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

import lancedb
import pyarrow as pa
from lancedb.index import FTS

from .appender import LanceAppender
from .commit_lock import CommitLock
from .errors import InvalidQuery, StoreConflict, StoreUnavailable
from .maintenance import is_conflict
from .redact import Failures, explain
from .tables import VECTOR, Catalog

log = logging.getLogger(__name__)
T = TypeVar("T")

_MAX_ATTEMPTS = 12


class TableHandles:
    """Connections and per-table handles of one store location (thread-safe)."""

    def __init__(
        self,
        uri: str,
        catalog: Catalog,
        failures: Failures,
        *,
        storage_options: dict[str, str],
        read_consistency_interval: timedelta,
        commit_lock: CommitLock | None,
    ) -> None:
        self.uri = uri
        self.catalog = catalog
        self.failures = failures
        self.in_memory = uri.startswith("memory://")
        self.read_consistency_interval = read_consistency_interval
        self._options = storage_options
        self._commit_lock = commit_lock
        self._lock = threading.RLock()
        self._db = self.connect(read_consistency_interval)
        self._tables: dict[str, Any] = {}
        self._maintenance_db: Any = None
        self._maintenance_tables: dict[str, Any] = {}
        self._append_db: Any = None
        # Each table's append handle and the version its last append made (0: none yet).
        self.append_tables: dict[str, tuple[Any, int]] = {}
        self.datasets: dict[str, tuple[int, Any]] = {}  # Lance dataset of the latest version
        self._pins = threading.local()  # per thread: {table: version} inside snapshot()

    @property
    def db(self) -> Any:
        return self._db

    def connect(self, interval: timedelta | None) -> Any:
        try:
            return lancedb.connect(
                self.uri, read_consistency_interval=interval, storage_options=self._options or None
            )
        except Exception as exc:
            error = self.failures.translate(exc)
            if error is exc:
                error = StoreUnavailable(self.uri, self.failures.scrub(str(exc))[:1000])
            raise error from None

    # ------------------------------------------------------------------ main handles

    def table(self, name: str) -> Any:
        tbl = self._tables.get(name)  # the hot path takes no lock
        if tbl is not None:
            return tbl
        with self._lock:
            tbl = self._tables.get(name)
            if tbl is not None:
                return tbl
            schema = self.catalog.schema(name)
            try:
                tbl = self._db.open_table(name)
            except Exception as exc:
                if explain(str(exc)) is not None:  # the store itself is unreachable
                    raise self.failures.translate(exc, f"cannot open table {name!r}: ") from None
                tbl = self._create(name, schema)
            self._check(name, tbl, schema)
            self._tables[name] = tbl
            return tbl

    def exists(self, name: str) -> bool:
        if name in self._tables:
            return True
        try:
            self._tables[name] = self._db.open_table(name)
            return True
        except Exception:
            return False

    def fresh(self, table: str) -> Any:
        """The table handle at its latest version (a no-op check when reads always check)."""
        tbl = self.table(table)
        if self.read_consistency_interval > timedelta(0):
            tbl.checkout_latest()
        return tbl

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Within the block, this thread reads each table at the version its first read found:
        one version check per table instead of one per read (a retrieve reads the memories
        table four or five times; each check lists the table's versions, 0.3-3 ms), and every
        read of the block comes from one version. Nested blocks share the outer one."""
        if getattr(self._pins, "versions", None) is not None:
            yield
            return
        self._pins.versions = {}
        try:
            yield
        finally:
            self._pins.versions = None

    def latest_version(self, name: str, dataset: Any) -> int:
        """The table's latest version (asked of the store), or the one pinned by snapshot()."""
        pins: dict[str, int] | None = getattr(self._pins, "versions", None)
        if pins is None:
            return int(dataset.latest_version)
        version = pins.get(name)
        if version is None:
            version = pins[name] = int(dataset.latest_version)
        return version

    def pin(self, name: str, version: int) -> int:
        """`version`, just read as the latest, or the one snapshot() pinned before it."""
        pins: dict[str, int] | None = getattr(self._pins, "versions", None)
        return version if pins is None else pins.setdefault(name, version)

    def arrow_source(self, name: str, *, latest: bool = False) -> Any:
        """The table's data for DuckDB: the Lance dataset of its latest version, opened once
        per version (on an object store opening one costs requests; versions never change).
        Inside snapshot() the version pinned there, unless `latest` (a read to write back)."""
        tbl = self.table(name)
        if self.in_memory:
            return tbl.to_arrow()
        cached = self.datasets.get(name)
        if cached is not None:
            # One listing of the versions, ~0.03 ms; LanceDB's checkout_latest + version cost
            # ~0.6 ms (two trips through its event loop), and a retrieve checks two or three times.
            if latest:
                version = int(cached[1].latest_version)
            else:
                version = self.latest_version(name, cached[1])
            if cached[0] == version:
                return cached[1]
        else:
            tbl.checkout_latest()
            version = int(tbl.version) if latest else self.pin(name, int(tbl.version))
        # Moving the previous version's dataset keeps its session, so the FTS and vector index
        # caches survive a write: ~2.5 ms cheaper to open and ~2.5 ms per first search after.
        dataset = tbl.to_lance() if cached is None else cached[1].checkout_version(version)
        if int(dataset.version) != version:  # a snapshot pinned an older one
            dataset = dataset.checkout_version(version)
        self.datasets[name] = (version, dataset)
        return dataset

    def _create(self, name: str, schema: pa.Schema) -> Any:
        try:
            tbl = self.with_retries(
                name, lambda: self._db.create_table(name, schema=schema, exist_ok=True)
            )
        except StoreConflict:
            raise
        except Exception as exc:
            error = self.failures.translate(exc, f"cannot create table {name!r}: ")
            if error is exc:
                error = StoreUnavailable(self.uri, f"cannot create table {name!r}: {exc}")
            raise error from None if self.failures.leaks(exc) else exc
        # The FTS index is built now, on the empty table, so no write ever waits for it; rows
        # written later are searched unindexed until compaction folds them in.
        fts = self.catalog.spec(name).fts_column
        if fts is not None:
            try:
                tbl.create_index(fts, config=FTS(with_position=False))
            except Exception as exc:  # another process created it first: fine
                log.debug(
                    "FTS index of %s not created here: %s", name, self.failures.scrub(str(exc))
                )
        return tbl

    def _check(self, name: str, tbl: Any, expected: pa.Schema) -> None:
        actual = tbl.schema
        vec = actual.field(VECTOR) if VECTOR in actual.names else None
        dim = self.catalog.dim
        if vec is not None and vec.type.list_size != dim:
            raise StoreUnavailable(
                self.uri,
                f"table {name!r} holds {vec.type.list_size}-dimensional vectors but the embedder "
                f"makes {dim}-dimensional ones; use the store's embedder",
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
                self.with_retries(name, lambda: tbl.add_columns(todo))
                if lock is not None:
                    lock.set_stamp(name, 0)  # appenders re-check the latest version

    # ------------------------------------------------------------------ other handles

    def maintenance_table(self, name: str) -> Any:
        """A handle of the compactor's own, so compaction never holds the writers' handle."""
        with self._lock:
            if self._maintenance_db is None:
                self._maintenance_db = self.connect(timedelta(0))
            tbl = self._maintenance_tables.get(name)
            if tbl is None:
                self.table(name)  # created (and checked) through the main handle
                tbl = self._maintenance_db.open_table(name)
                self._maintenance_tables[name] = tbl
            return tbl

    def append_handle(self, table: str) -> tuple[Any, int]:
        """The table's append handle and the version its last append made (0: none yet)."""
        entry = self.append_tables.get(table)  # the hot path takes no lock
        if entry is not None:
            return entry
        with self._lock:
            entry = self.append_tables.get(table)
            if entry is None:
                checked = self.table(table)  # created (and checked) through the main handle
                if self.in_memory:  # memory:// tables have no Lance dataset: LanceDB's add
                    if self._append_db is None:
                        self._append_db = self.connect(None)  # None: never re-checks
                    handle: Any = self._append_db.open_table(table)
                else:
                    handle = LanceAppender(checked.to_lance())
                entry = (handle, 0)
                self.append_tables[table] = entry
            return entry

    # ------------------------------------------------------------------ retries

    def with_retries(self, table: str, op: Callable[[], T]) -> T:
        """Run a write, retrying with jittered backoff while concurrent commits conflict."""
        delay = 0.01
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                return op()
            except (InvalidQuery, StoreUnavailable):
                raise
            except Exception as exc:
                if not is_conflict(exc) or attempt == _MAX_ATTEMPTS:
                    if is_conflict(exc):
                        cause = RuntimeError(self.failures.scrub(str(exc))[:1000])
                        raise StoreConflict(table, attempt, cause) from None
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")


@contextmanager
def _nothing() -> Iterator[None]:
    yield
