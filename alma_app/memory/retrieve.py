"""retrieve(): the memories relevant to a task, up to top_k of each type, cached per store version.

The cache key holds the memories table's version, so any write makes every older entry
unreachable. It keeps each answer pickled: callers may edit what they get, a hit unpickles a
fresh copy, and a miss hands out the slice it ranked (one pickling, not a copy and a pickling).
An answer is kept the second time its question is asked at a version: in an agent's loop
(retrieve, do the task, learn) the learn moves the version, so most questions are asked once,
and pickling each answer for a reuse that never came was ~0.3 ms of every retrieve.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections import OrderedDict

from alma_app.checks import check_limit, check_text
from alma_app.errors import store_errors
from alma_app.memory import task_vectors
from alma_app.memory.focus import focus
from alma_app.memory.learning import Learner
from alma_app.memory.repository import MemoryRepository
from alma_app.memory.scope import Scope
from alma_app.memory.search import HybridSearch
from alma_app.memory.types import MemorySlice
from alma_app.memory.usage import UsageRecorder

SLICE_FIELDS = {
    "heuristic": "heuristics",
    "outcome": "outcomes",
    "preference": "preferences",
    "domain_knowledge": "domain_knowledge",
    "anti_pattern": "anti_patterns",
}
CACHE_SIZE = 512


class Retriever:
    def __init__(
        self,
        repo: MemoryRepository,
        searcher: HybridSearch,
        learner: Learner,
        scope: Scope,
        usage: UsageRecorder,
    ) -> None:
        self.repo = repo
        self.searcher = searcher
        self.learner = learner
        self.scope = scope
        self.usage = usage
        self._cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._asked: OrderedDict[tuple, None] = OrderedDict()  # keys asked once, not yet kept
        self._cache_lock = threading.Lock()

    def retrieve(
        self, task: str, agent: str, top_k: int = 5, user_id: str | None = None
    ) -> MemorySlice:
        """The memories most relevant to a task, up to top_k of each type, best first."""
        started = time.perf_counter()
        check_text("task", task)
        self.scope.check_agent(agent)
        check_limit("top_k", top_k, 1, 100)
        if user_id is not None:
            check_text("user_id", user_id)
        with self.repo.store.snapshot():  # one version check; every read from that version
            version = self.repo.version()
            key = (version, task, agent, top_k, user_id)
            with self._cache_lock:
                cached = self._cache.get(key)
            if cached is None:
                result = self._rank(task, agent, top_k, user_id)
                self._keep(key, result)
            else:
                result = pickle.loads(cached)  # a copy that shares nothing with the cache
        self.usage.record(agent, [m.id for m in result.all()])
        result.retrieval_time_ms = (time.perf_counter() - started) * 1000
        return result

    def _keep(self, key: tuple, result: MemorySlice) -> None:
        """Cache the answer if its question was asked before at this version."""
        with self._cache_lock:
            if key not in self._asked:  # the first time: only remember that it was asked
                self._asked[key] = None
                while len(self._asked) > CACHE_SIZE:
                    self._asked.popitem(last=False)
                return
            del self._asked[key]
        frozen = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
        with self._cache_lock:
            self._cache[key] = frozen
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def _rank(self, task: str, agent: str, top_k: int, user_id: str | None) -> MemorySlice:
        where = self.scope.visibility(agent, user_id)
        hits = self.searcher.search(task, where, limit=0, per_type=top_k)
        # the task type's advice, even where outcomes crowd it out (alma_app/memory/focus.py)
        outcomes = [m for m in hits if m.TYPE == "outcome" and m.agent == agent]
        vectors = task_vectors.stored_or_embedded(self._task_rows, outcomes, self.learner.vectors)
        hits = focus(task, hits, agent, where, top_k, self.searcher, vectors)
        result = MemorySlice(query=task, agent=agent, user_id=user_id)
        for memory in hits:
            bucket = getattr(result, SLICE_FIELDS[memory.TYPE])
            if len(bucket) < top_k:
                bucket.append(memory)
        return result

    def _task_rows(self, ids: list[str]) -> list[dict]:
        """The stored task vectors of these outcomes (read from the search mirror)."""
        with store_errors():
            return self.repo.store.lookup("memories", ids, columns=["id", task_vectors.COLUMN])
