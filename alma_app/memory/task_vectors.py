"""The embedding of an outcome's task alone, stored beside the embedding of its whole text.

Retrieval reads which task type a query is about off the agent's outcomes whose *task* is
nearest the query (alma_app/memory/focus.py). The outcome's own vector embeds its task together
with its strategy and error, which pull in the same strategy's outcomes of other task types, so
the vote needs the task's own vector. Embedding up to five tasks per retrieve at query time cost
more than the rest of the retrieve (~40 ms on two cores at 100k memories), so each outcome's task
vector is computed when the outcome is written, in the same batch as its text (a learn() embeds
two short texts instead of one), and stored as float16 bytes (768 bytes per outcome; null for the
other types). Stores written before the column existed have nulls there; those tasks are embedded
when a vote needs them, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from alma_app.embeddings import Embedder
from alma_app.memory.types import Memory

COLUMN = "task_vector"

Vectors = Callable[[Sequence[str]], np.ndarray]


def task_of(memory: Memory) -> str | None:
    """The text whose vector is kept for this memory: an outcome's task, nothing for others."""
    if memory.TYPE != "outcome":
        return None
    return memory.task or None  # type: ignore[attr-defined]


def encode(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float16).tobytes()


def decode(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype=np.float16).astype(np.float32)


def embed(
    embedder: Embedder, memories: Sequence[Memory], vectors: np.ndarray | None = None
) -> tuple[np.ndarray, list[bytes | None]]:
    """The memories' text vectors (embedded unless given) and their task vectors, all texts
    in one batch."""
    tasks = [task_of(m) for m in memories]
    wanted = [t for t in tasks if t]
    texts = [m.text() for m in memories] if vectors is None else []
    embedded = embedder.embed([*texts, *wanted]) if texts or wanted else None
    if vectors is None:
        assert embedded is not None
        vectors = embedded[: len(texts)]
    fresh = iter(embedded[len(texts) :] if embedded is not None else ())
    return vectors, [encode(next(fresh)) if t else None for t in tasks]


def stored_or_embedded(
    lookup: Callable[[list[str]], list[dict[str, Any]]], outcomes: Sequence[Memory], embed: Vectors
) -> Vectors:
    """A function giving the vectors of texts: the stored task vector of any of `outcomes`
    whose task the text is, read on the first call in one lookup by id; `embed` for the rest."""
    known: dict[str, np.ndarray] | None = None

    def vectors(texts: Sequence[str]) -> np.ndarray:
        nonlocal known
        if known is None:
            tasks = {m.id: task_of(m) for m in outcomes}
            rows = lookup([i for i, t in tasks.items() if t])
            known = {tasks[r["id"]]: decode(r[COLUMN]) for r in rows if r.get(COLUMN)}  # type: ignore[misc]
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        fresh = dict(zip(missing, embed(missing), strict=True)) if missing else {}
        return np.stack([known[t] if t in known else fresh[t] for t in texts])

    return vectors
