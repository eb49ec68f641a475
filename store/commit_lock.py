"""A cross-process commit lock per table, for stores in a local directory.

Lance's commit protocol keeps concurrent writers correct on its own: a writer that loses the
race for a version re-reads, rebases and retries, with an exponential random back-off. Under
steady contention that back-off starves some writers: with 4 processes appending to one table,
single appends were measured waiting 5-11 s while the others committed runs of versions. When
every writer first takes this advisory lock (flock on a file in the store directory), commits
queue in the kernel instead and a waiting writer proceeds the moment the holder is done.

The same locks make conditional writes atomic across processes (LanceStore.update_if: read the
row versions, compare, commit, all while holding the table's lock) and serialise named critical
sections (LanceStore.exclusive). For plain commits they are only an optimisation: correctness
still rests on Lance's protocol, so a process that does not take the lock (another tool, or
compaction) is merely slower, never unsafe. Object stores have no shared lock (see
docs/scaling.md); there the store relies on Lance's protocol and on group commit
(store/write_queue.py) to make few commits.

The lock file also carries a stamp: the table version the last commit made under the lock, by
any process. A writer that finds its own last version there knows no other locked writer has
committed since, so its table handle is current without asking Lance (see store/commits.py).
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, Lance's protocol alone
    fcntl = None  # type: ignore[assignment]

LOCK_DIR = "_alma_locks"  # inside the store directory; LanceDB ignores it (no .lance suffix)
_STAMP = struct.Struct("<q")  # the stamp: a signed 64-bit version at the start of the lock file


class CommitLock:
    """Exclusive per-table locks shared by every process using the same store directory."""

    def __init__(self, store_dir: str | os.PathLike[str] | None) -> None:
        # None: locks shared by the threads of this process only (memory://, object stores).
        self.directory = None if store_dir is None else Path(store_dir) / LOCK_DIR
        self._fds: dict[str, int] = {}
        self._threads: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, table: str) -> Iterator[None]:
        """Hold the table's lock (threads of this process queue too) for one commit."""
        with self._guard:
            thread_lock = self._threads.setdefault(table, threading.Lock())
        with thread_lock:
            fd = self._fd(table)
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def stamp(self, table: str) -> int | None:
        """The version the last commit under this table's lock made (None if unknown).

        Only meaningful while holding the lock; a wrong stamp costs time, never correctness.
        """
        fd = self._fd(table)
        if fd is None:
            return None
        data = os.pread(fd, _STAMP.size, 0)
        return _STAMP.unpack(data)[0] if len(data) == _STAMP.size else None

    def set_stamp(self, table: str, version: int) -> None:
        """Record the version a commit just made (while still holding the lock)."""
        fd = self._fd(table)
        if fd is not None:
            os.pwrite(fd, _STAMP.pack(version), 0)

    def _fd(self, table: str) -> int | None:
        if fcntl is None or self.directory is None:
            return None
        fd = self._fds.get(table)
        if fd is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory / f"{table}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            self._fds[table] = fd
        return fd

    def close(self) -> None:
        with self._guard:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()
