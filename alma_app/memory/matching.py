"""Which memories of a bucket (one agent, memory type and task type) are alike: the lookups the
learning rules in learning.py apply. Similarity is the cosine of MiniLM embeddings, cached per
text, and never joins texts of opposite polarity (alma_app.memory.novelty).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import alma_store as st
from alma_app.memory import novelty
from alma_app.memory.repository import MemoryRepository
from alma_app.memory.types import Outcome

ERROR_MATCH_MIN_STRATEGY = 0.6  # strategy similarity needed for a shared error to count
VECTOR_CACHE = 8192  # short texts whose embeddings are kept


class Matcher:
    def __init__(self, repo: MemoryRepository) -> None:
        self.repo = repo
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def threshold(self) -> float:
        return self.repo.settings.strategy_similarity

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of short texts (strategies, tasks, categories), cached across calls."""
        if not texts:
            return np.zeros((0, self.repo.embedder.dim), dtype=np.float32)
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = dict(zip(missing, self.repo.embedder.embed(missing), strict=True))
            found.update(fresh)
            with self._lock:
                self._vectors.update(fresh)
                while len(self._vectors) > VECTOR_CACHE:
                    self._vectors.popitem(last=False)
        return np.stack([found[t] for t in texts])

    def similarities(self, text: str, others: Sequence[str]) -> np.ndarray:
        if not others:
            return np.zeros(0, dtype=np.float32)
        vecs = self.vectors([text, *others])
        return vecs[1:] @ vecs[0]

    def bucket(self, memory_type: str, agent: str, task_type: str) -> st.Filter:
        return st.And(
            (
                st.Eq("project_id", self.repo.settings.project_id),
                st.Eq("type", memory_type),
                st.Eq("agent", agent),
                st.Eq("category", task_type),
            )
        )

    def nearby(
        self, memory_type: str, agent: str, task_type: str, text: str, *, limit: int
    ) -> list[Any]:
        """Memories of one agent, type and task type nearest to a text (vector search)."""
        vector = self.vectors([text])[0]
        return self.repo.nearest(vector, self.bucket(memory_type, agent, task_type), limit=limit)

    def best_match(
        self,
        text: str,
        memories: Sequence[Any],
        key: Callable[[Any], str],
        error: str | None = None,
        error_key: Callable[[Any], str] | None = None,
    ) -> Any | None:
        """The memory whose key text is most similar to `text`, if at or above the threshold."""
        if not memories:
            return None
        sims = self.similarities(text, [key(m) for m in memories])
        if error and error_key is not None:
            sims = self.with_errors(sims, error, [error_key(m) for m in memories])
        opposite = [not novelty.same_polarity(text, key(m)) for m in memories]
        sims = np.where(opposite, -1.0, sims)
        best = int(np.argmax(sims))
        return memories[best] if sims[best] >= self.threshold else None

    def with_errors(self, sims: np.ndarray, error: str, errors: Sequence[str]) -> np.ndarray:
        """Raise strategy similarities where the errors match and the strategies are related."""
        shared = self.similarities(error, errors)
        joined = (shared >= self.threshold) & (sims >= ERROR_MATCH_MIN_STRATEGY)
        return np.where(joined, np.maximum(sims, shared), sims)

    def similar_outcomes(
        self, record: Outcome, nearby: list[Any], *, success: bool, exclude: set[str]
    ) -> list[Any]:
        """Outcomes among `nearby` (the bucket's, nearest the strategy) with the record's result
        whose strategy (or, for failures, error) is similar to this one's; includes the record."""
        found = [
            o for o in nearby if o.success is success and o.id not in exclude and o.id != record.id
        ]
        found.append(record)
        sims = self.similarities(record.strategy_used, [o.strategy_used for o in found])
        if not success and record.error_message:
            errors = [o.error_message or "" for o in found]
            sims = self.with_errors(sims, record.error_message, errors)
        return [
            o
            for o, s in zip(found, sims, strict=True)
            if s >= self.threshold and novelty.same_polarity(record.strategy_used, o.strategy_used)
        ]

    def history(self, record: Outcome, nearby: list[Any]) -> list[bool]:
        """The results (True = success), oldest first, of the bucket's outcomes whose strategy is
        similar to the record's (for a failure, or whose error is: as `_similar_outcomes`), the
        record included: the evidence `supported` weighs."""
        others = [o for o in nearby if o.id != record.id]
        sims = self.similarities(record.strategy_used, [o.strategy_used for o in others])
        if not record.success and record.error_message:
            errors = [o.error_message or "" for o in others]
            sims = self.with_errors(sims, record.error_message, errors)
        similar = [o for o, s in zip(others, sims, strict=True) if s >= self.threshold]
        similar.sort(key=lambda o: o.timestamp)
        return [o.success for o in similar] + [record.success]

    def medoid(self, texts: Sequence[str]) -> str:
        """The text most similar, on average, to all the others (earliest on ties)."""
        vecs = self.vectors(texts)
        return texts[int(np.argmax((vecs @ vecs.T).sum(axis=1)))]

    def count_similar_failures(self, record: Outcome, strategy: str) -> int:
        """How many failed outcomes of the bucket used a strategy similar to `strategy`."""
        assert record.agent is not None
        failed = [
            o
            for o in self.nearby("outcome", record.agent, record.task_type, strategy, limit=50)
            if not o.success
        ]
        sims = self.similarities(strategy, [o.strategy_used for o in failed])
        return int((sims >= self.threshold).sum())
