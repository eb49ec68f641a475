"""The hybrid fetch every ranked search shares: BM25 (over-fetched, in a worker thread) beside
the query embedding and the vector search, merged into one candidate per id.

Memories (alma_app.memory.search) and handoffs (alma_app.sessions.manager) rank what this returns
with their own scores, so both see the same candidates for the same query.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import alma_store as st
from alma_app.config import RetrievalWeights
from alma_app.embeddings import Embedder
from alma_app.errors import store_errors
from alma_app.memory import scoring

Mode = Literal["hybrid", "vector", "lexical"]
LEXICAL_OVERFETCH = 3  # as memory search: the FTS filter applies after BM25 ranks the table

# BM25 runs beside the embedding and vector search: both wait in native code with the GIL
# released, so a search costs max(), not sum().
_LEXICAL_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="alma-hybrid")


@dataclass
class Hits:
    rows: dict[str, dict[str, Any]]  # each candidate's row (vector search's copy wins)
    merged: dict[str, scoring.Candidate]  # id -> similarity and BM25
    best_bm25: float  # the best lexical score of the query (normalises the others)


def fetch(
    store: st.LanceStore,
    embedder: Embedder,
    table: str,
    query: str,
    where: st.Filter | None,
    *,
    limit: int,
    columns: Sequence[str],
    weights: RetrievalWeights,
    mode: Mode = "hybrid",
) -> Hits:
    """Up to `limit` candidates of each search, merged; vector-only hits below the minimum
    similarity are dropped in hybrid mode (an unrelated query finds nothing)."""
    vector_rows: list[dict] = []
    text_rows: list[dict] = []
    pending: Future[list[dict]] | None = None
    with store_errors():
        if mode in ("hybrid", "lexical"):
            pending = _LEXICAL_POOL.submit(
                store.text_search,
                table,
                query,
                where=where,
                limit=limit,
                columns=list(columns),
                prefilter=False,
                overfetch=LEXICAL_OVERFETCH,
            )
        try:
            if mode in ("hybrid", "vector"):
                vector = embedder.embed([query])[0]
                vector_rows = store.vector_search(
                    table, vector, where=where, limit=limit, columns=list(columns)
                )
        finally:
            if pending is not None:
                text_rows = pending.result()
    rows = {r["id"]: r for r in text_rows}
    rows.update({r["id"]: r for r in vector_rows})
    merged = scoring.merge_hits(
        [(r["id"], r["_distance"]) for r in vector_rows],
        [(r["id"], r["_score"]) for r in text_rows],
        min_similarity=weights.min_similarity if mode == "hybrid" else -1.0,
        vector_limit=limit,
    )
    best_bm25 = max((r["_score"] for r in text_rows), default=0.0)
    return Hits(rows, merged, best_bm25)
