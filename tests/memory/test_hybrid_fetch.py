"""The hybrid fetch runs the word search beside the query embedding, and on the caller's thread
when the embedding was cached (nothing to overlap), with the same candidates either way."""

from __future__ import annotations

import threading
import time

import numpy as np

from alma_app.memory import hybrid
from alma_app.memory.search import SCORE_COLUMNS
from alma_app.memory.types import DomainKnowledge


class FirstTimeSlow:
    """An embedder that takes 50 ms for a text it has not seen (a model) and no time after."""

    def __init__(self, inner) -> None:
        self.inner, self.seen = inner, set()
        self.dim = inner.dim

    def knows(self, text: str) -> bool:
        return text in self.seen

    def embed(self, texts: list[str]) -> np.ndarray:
        if any(t not in self.seen for t in texts):
            time.sleep(0.05)
            self.seen.update(texts)
        return self.inner.embed(texts)


class WordSearchThreads:
    """The store, noting which thread ran each word search."""

    def __init__(self, store) -> None:
        self.store, self.threads = store, []

    def text_search(self, *args, **kwargs):
        self.threads.append(threading.current_thread().name)
        return self.store.text_search(*args, **kwargs)

    def vector_search(self, *args, **kwargs):
        return self.store.vector_search(*args, **kwargs)


def test_a_cached_embedding_runs_the_word_search_inline_with_the_same_candidates(disk_alma):
    facts = ["Zara adopted a greyhound", "The greyhound sleeps all day", "Zara likes tea"]
    disk_alma.add_memories([DomainKnowledge(agent="victor", domain="pets", fact=f) for f in facts])
    store = WordSearchThreads(disk_alma.store)
    embedder = FirstTimeSlow(disk_alma.embedder)
    weights = disk_alma.settings.retrieval

    def fetch() -> hybrid.Hits:
        return hybrid.fetch(
            store, embedder, "memories", "Zara's greyhound", None,
            limit=10, columns=SCORE_COLUMNS, weights=weights,
        )  # fmt: skip

    first, again = fetch(), fetch()
    assert store.threads[0].startswith("alma-hybrid")  # beside the 50 ms embedding
    assert store.threads[1] == threading.current_thread().name  # nothing to overlap
    assert first.merged == again.merged and first.best_bm25 == again.best_bm25
    assert len(first.merged) == 3
