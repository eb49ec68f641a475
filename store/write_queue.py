"""Group commit: concurrent writes to one table from threads of one process share a commit.

Every Lance commit writes a data file, a transaction and a manifest, and concurrent commits to
one table must be rebased onto each other; a process serving many callers at once (the MCP
server, a threaded agent) would otherwise make one table version per call and race itself.
Here the first caller to arrive commits for everyone queued behind it: appends are concatenated
into one `add`, upserts with distinct ids into one `merge_insert`, deletes run in order. Each
caller returns only when the commit holding its rows succeeded (or raises its error), so an
acknowledged write is a committed one.

A write that lands in several tables (a memory and its audit event) can commit them at the same
time with `submit_all`: helper threads commit the other tables while the caller commits the
first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa

Kind = Literal["add", "upsert", "delete"]
Commit = Callable[[str, Kind, Any], None]
HELPERS = 4  # threads committing beside callers of submit_all


@dataclass(eq=False)
class _Write:
    kind: Kind
    payload: Any  # a pa.Table for add/upsert, a Lance where-clause for delete
    done: bool = False
    error: BaseException | None = None


class GroupCommit:
    """Per-table queues of pending writes; one committer per table at a time."""

    def __init__(self, commit: Commit, max_rows: int = 50_000) -> None:
        self._commit = commit
        self._max_rows = max_rows
        self._cond = threading.Condition()
        self._pending: dict[str, list[_Write]] = {}
        self._busy: set[str] = set()
        self._helpers: ThreadPoolExecutor | None = None  # made by the first submit_all
        self.commits = 0  # how many commits were made (for tests and benchmarks)
        self.writes = 0  # how many writes they carried

    def submit(self, table: str, kind: Kind, payload: Any) -> None:
        """Queue one write and return once it is committed; raises the commit's error."""
        write = _Write(kind, payload)
        with self._cond:
            self._pending.setdefault(table, []).append(write)
            while not write.done and table in self._busy:
                self._cond.wait()
            if write.done:
                return self._result(write)
            self._busy.add(table)
            batch = self._pending.pop(table)
        try:
            self._run(table, batch)
        finally:
            with self._cond:
                self._busy.discard(table)
                for item in batch:
                    if not item.done:  # never leave a follower waiting, whatever happened
                        item.error = item.error or RuntimeError("group commit interrupted")
                        item.done = True
                self._cond.notify_all()
        return self._result(write)

    def submit_all(self, writes: Sequence[tuple[str, Kind, Any]]) -> None:
        """Commit writes to different tables at the same time; return once all are committed.

        The caller's thread commits the first write and helper threads the others, each through
        submit() (so each still joins other threads' writes to its table). Errors are raised
        only once every write has finished, the first write's error before the others'. Not a
        transaction: when one commit fails the others stay committed.
        """
        tables = [table for table, _, _ in writes]
        if len(set(tables)) != len(tables):
            raise ValueError(f"submit_all takes one write per table, got {tables}")
        if len(writes) <= 1:
            for table, kind, payload in writes:
                self.submit(table, kind, payload)
            return
        helpers = self._helper_pool()
        futures = [helpers.submit(self.submit, *write) for write in writes[1:]]
        errors: list[BaseException] = []
        try:
            self.submit(*writes[0])
        except BaseException as exc:  # wait for the others all the same: none outlives the call
            errors.append(exc)
        for future in futures:
            try:
                future.result()
            except BaseException as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    def _helper_pool(self) -> ThreadPoolExecutor:
        with self._cond:
            if self._helpers is None:
                self._helpers = ThreadPoolExecutor(HELPERS, thread_name_prefix="alma-commit")
            return self._helpers

    def close(self) -> None:
        """Stop the helper threads (after any commit they are running)."""
        with self._cond:
            helpers, self._helpers = self._helpers, None
        if helpers is not None:
            helpers.shutdown(wait=True)

    @staticmethod
    def _result(write: _Write) -> None:
        if write.error is not None:
            raise write.error

    def _run(self, table: str, batch: list[_Write]) -> None:
        for group in self._groups(batch):
            first = group[0]
            payload = first.payload
            if len(group) > 1:
                payload = pa.concat_tables([w.payload for w in group])
            try:
                self._commit(table, first.kind, payload)
            except BaseException as exc:  # every member of a failed commit gets its error
                for w in group:
                    w.error = exc
            with self._cond:
                self.commits += 1
                self.writes += len(group)
                for w in group:
                    w.done = True
                self._cond.notify_all()

    def _groups(self, batch: list[_Write]) -> list[list[_Write]]:
        """Consecutive appends, and consecutive upserts touching distinct ids, go together."""
        groups: list[list[_Write]] = []
        ids: set[Any] = set()
        rows = 0
        for write in batch:
            current = groups[-1] if groups else None
            mergeable = (
                current is not None
                and write.kind == current[0].kind
                and write.kind in ("add", "upsert")
                and rows + write.payload.num_rows <= self._max_rows
            )
            new_ids: set[Any] = set()
            if write.kind == "upsert":
                new_ids = set(write.payload.column("id").to_pylist())
                mergeable = mergeable and not (ids & new_ids)
            if mergeable and current is not None:
                current.append(write)
                ids |= new_ids
                rows += write.payload.num_rows
            else:
                groups.append([write])
                ids = new_ids
                rows = write.payload.num_rows if write.kind != "delete" else 0
        return groups
