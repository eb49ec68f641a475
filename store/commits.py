"""How a write reaches Lance: one commit per call (GroupCommit batches the calls), retried while
concurrent commits conflict, under the table's cross-process commit lock on a local disk.

Appends go through a handle that skips LanceDB's read-consistency checks. The store's own
handles re-check the table's latest version on every call (they serve reads, which must be
fresh). On a local disk that lists the table's _versions directory, three times per add plus once
after: ~1.5 ms per commit with a few hundred versions, more as versions pile up between cleanups.
A blind append reads nothing, so it goes through a handle that never re-checks; Lance's commit
protocol still rebases it onto anything committed meanwhile (appends never conflict).

Rebasing over many versions is slow (~0.6 s over 1000), so the handle is moved to the latest
version first unless the commit lock's stamp shows that the last locked commit was this handle's
own: then only unlocked commits (compaction) can have come between. Upserts and deletes read the
table and keep using the checked handle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from .commit_lock import CommitLock
from .handles import TableHandles
from .maintenance import is_conflict
from .write_queue import Kind


def version_of(result: Any) -> int:
    """The table version a LanceDB write result says its commit made (0 if it does not say)."""
    return int(getattr(result, "version", 0) or 0)


class Commits:
    """Makes the commits of one store and remembers the latest version each table's made."""

    def __init__(
        self,
        handles: TableHandles,
        lock: CommitLock | None,
        *,
        on_append: Callable[[str, int, pa.Table], None] | None = None,
    ) -> None:
        self._handles = handles
        self._lock = lock
        self._on_append = on_append  # told (table, version, rows) of every append committed
        self._guard = threading.Lock()
        self.committed: dict[str, int] = {}  # latest version each table's commits made

    def record(self, table: str, version: int) -> int:
        """Note a commit's version; returns the latest version known for the table."""
        with self._guard:
            latest = max(self.committed.get(table, 0), version)
            self.committed[table] = latest
            return latest

    def commit(self, table: str, kind: Kind, payload: Any) -> None:
        """One Lance commit, retried while concurrent commits conflict (called by GroupCommit)."""
        tbl = self._handles.table(table)
        lock = self._lock
        if lock is None:
            result = self._commit_now(tbl, table, kind, payload)
        else:
            with lock.hold(table):
                if kind == "add":
                    result = self._append(table, payload, lock.stamp(table))
                else:
                    result = self._commit_now(tbl, table, kind, payload)
                lock.set_stamp(table, version_of(result))  # 0 (unknown): appenders re-check
        self.record(table, version_of(result))

    def _append(self, table: str, data: pa.Table, stamp: int | None) -> Any:
        """Append through the table's append handle (see the module docstring)."""
        handle, version = self._handles.append_handle(table)
        if stamp is None or stamp != version:
            handle.checkout_latest()

        def append() -> Any:
            try:
                return handle.add(data)
            except Exception as exc:
                if is_conflict(exc):
                    handle.checkout_latest()  # the next attempt starts from the latest version
                raise

        result = self._handles.with_retries(table, append)
        self._handles.append_tables[table] = (handle, version_of(result))
        if self._on_append is not None and version_of(result):
            self._on_append(table, version_of(result), data)
        return result

    def _commit_now(self, tbl: Any, table: str, kind: Kind, payload: Any) -> Any:
        retry = self._handles.with_retries
        if kind == "add":
            return retry(table, lambda: tbl.add(payload))
        if kind == "upsert":
            return retry(
                table,
                lambda: (
                    tbl.merge_insert("id")
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .execute(payload)
                ),
            )
        return retry(table, lambda: tbl.delete(payload))
