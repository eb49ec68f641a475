"""Which memories agents retrieve, recorded off the hot path.

retrieve() only counts in memory; a background thread appends the counts to the events table
(entity "usage", action "retrieve", one row per memory and agent per flush, the count in
`after`) every few seconds and on close. Usage is analytics, not a record of truth: counts not yet
flushed when a process is killed are lost, and retrieve never waits for a write.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import Counter

from alma_app.events import EventLog

log = logging.getLogger(__name__)
FLUSH_SECONDS = 5.0


class UsageRecorder:
    def __init__(self, events: EventLog, interval: float = FLUSH_SECONDS):
        self._events = events
        self._interval = interval
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        atexit.register(self.close)

    def record(self, agent: str, memory_ids: list[str]) -> None:
        """Count one retrieval of each memory by the agent (no I/O)."""
        if not memory_ids or self._closed:
            return
        with self._lock:
            self._counts.update((memory_id, agent) for memory_id in memory_ids)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alma-usage", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self.flush()

    def flush(self) -> int:
        """Append the pending counts in one commit; returns how many rows were written."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return 0
        rows = [
            (memory_id, "retrieve", agent, None, {"count": count}, None)
            for (memory_id, agent), count in counts.items()
        ]
        try:
            self._events.append_raw("usage", rows)
        except Exception:
            log.warning("could not record %d retrieval counts", len(rows), exc_info=True)
            return 0
        return len(rows)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
