"""Conditional writes: compare-and-set on a row-version column, for read-modify-write callers.

A caller reads rows (with their `version`), changes them and writes them back with the versions it
read. The write succeeds only if every row still has that version; otherwise nothing is written
and VersionConflict names the rows that moved, so the caller re-reads and re-applies its change
(or reports a conflict). A null version reads as 0; each update writes version + 1.

How the check is made atomic:
- local directory: under the table's cross-process commit lock (store/commit_lock.py), re-read
  the current versions, compare, commit (a conditional merge_insert, which for a single row is
  the check itself). Every process using the store takes that lock for its commits, so no write
  can come between the check and the commit.
- memory:// and object stores: the same lock is only shared by this process's threads, so the
  update is also a conditional merge_insert (`target.version = source.version - 1`) and the
  number of rows it matched is checked. For several rows at once, a row that moved between the
  check and the commit makes the call fail after the other rows were updated: then
  VersionConflict names the rows that were not. Conditional deletes and inserts on an object
  store are checked, then written, with a window between the two (documented in scaling.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from .commit_lock import CommitLock
from .errors import InvalidQuery, VersionConflict
from .filters import In, to_lance
from .handles import TableHandles
from .reads import IDS_PER_WHERE, chunks
from .tables import ROW_VERSION

_MATCHES = (
    f"(target.{ROW_VERSION} IS NULL AND source.{ROW_VERSION} = 1) "
    f"OR target.{ROW_VERSION} = source.{ROW_VERSION} - 1"
)


class ConditionalWrites:
    """update_if / delete_if / add_new / exclusive of one LanceStore (see there).

    `on_commit(table, version)` is told of every commit made here (the compactor counts them).
    """

    def __init__(
        self,
        handles: TableHandles,
        lock: CommitLock | None,
        *,
        on_commit: Callable[[str, int], None],
    ) -> None:
        self._handles = handles
        self._on_commit = on_commit
        self._exact = lock is not None  # a cross-process lock: the check itself is atomic
        self._lock = lock if lock is not None else CommitLock(None)

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a named lock: across processes on a local store, across threads elsewhere."""
        key = hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]
        with self._lock.hold(f"x-{key}"):
            yield

    def versions(self, table: str, ids: Sequence[str]) -> dict[str, int]:
        """The current version of each existing row (missing rows are absent)."""
        tbl = self._handles.table(table)
        tbl.checkout_latest()
        schema = self._handles.catalog.schema(table)
        out: dict[str, int] = {}
        for chunk in chunks(list(dict.fromkeys(ids)), IDS_PER_WHERE):
            rows = (
                tbl.search()
                .where(to_lance(In("id", tuple(chunk)), schema))
                .select(["id", ROW_VERSION])
                .limit(len(chunk))
                .to_arrow()
                .to_pylist()
            )
            out.update({r["id"]: int(r[ROW_VERSION] or 0) for r in rows})
        return out

    def _moved(self, table: str, expected: Mapping[str, int | None]) -> list[str]:
        current = self.versions(table, list(expected))
        return [
            i
            for i, version in expected.items()
            if (i in current) != (version is not None) or current.get(i, 0) != (version or 0)
        ]

    def update_if(self, table: str, data: pa.Table, expected: Mapping[str, int]) -> int:
        """Replace rows whose version is still `expected[id]`; rows carry expected + 1."""
        ids = data.column("id").to_pylist()
        new = data.column(ROW_VERSION).to_pylist()
        if sorted(ids) != sorted(expected) or len(set(ids)) != len(ids):
            raise InvalidQuery("update_if needs one row per expected id, ids distinct")
        if any(v != expected[i] + 1 for i, v in zip(ids, new, strict=True)):
            raise InvalidQuery("each row's version must be its expected version + 1")
        tbl = self._handles.table(table)
        # The merge scans the table's ids instead of asking the id index: through the index, one
        # row's update cost 11 ms after a compaction and 0.3 ms more for every write since (~55 ms
        # after 150, at 1k, 10k and 100k memories alike); the scan 10 -> 19-21 ms at 1k and 10k,
        # 18 -> 29 ms at 100k (docs/benchmarks.md, stop 21). Reinforcements and supersedes are
        # such updates.
        with self._lock.hold(table):
            # One row: the conditional merge itself is the check (and costs no extra read).
            # Several: check first, so that a conflict writes none of them.
            moved = self._moved(table, expected) if len(ids) > 1 else []
            if moved:
                raise VersionConflict(table, moved)
            result = self._handles.with_retries(
                table,
                lambda: (
                    tbl.merge_insert("id")
                    .when_matched_update_all(where=_MATCHES)
                    .use_index(False)
                    .execute(data)
                ),
            )
            self._committed(table, result)
        if int(getattr(result, "num_updated_rows", len(ids))) != len(ids):
            raise VersionConflict(table, self._moved(table, expected))
        return int(getattr(result, "version", 0) or 0)

    def delete_if(self, table: str, expected: Mapping[str, int]) -> None:
        """Delete rows whose version is still `expected[id]`, all or none."""
        if not expected:
            return
        tbl = self._handles.table(table)
        schema = self._handles.catalog.schema(table)
        with self._lock.hold(table):
            moved = self._moved(table, expected)
            if moved:
                raise VersionConflict(table, moved)
            result: Any = None
            for chunk in chunks(list(expected), IDS_PER_WHERE):
                where = to_lance(In("id", tuple(chunk)), schema)
                result = self._handles.with_retries(table, lambda w=where: tbl.delete(w))
            self._committed(table, result)

    def add_new(self, table: str, data: pa.Table) -> None:
        """Append rows none of whose ids exist yet (a restore racing another restore)."""
        ids = data.column("id").to_pylist()
        tbl = self._handles.table(table)
        with self._lock.hold(table):
            present = sorted(self.versions(table, ids))
            if present:
                raise VersionConflict(table, present)
            result = self._handles.with_retries(table, lambda: tbl.add(data))
            self._committed(table, result)

    def _committed(self, table: str, result: Any) -> None:
        """Tell the append handles and the compactor about a commit made under the lock."""
        version = int(getattr(result, "version", 0) or 0)
        if self._exact:
            self._lock.set_stamp(table, version)  # 0 (unknown): appenders re-check
        self._on_commit(table, version)
