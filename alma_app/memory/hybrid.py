"""The hybrid fetch every ranked search shares: BM25 (over-fetched, in a worker thread) beside
the query embedding and the vector search, merged into one candidate per id.

Memories (alma_app.memory.search) and handoffs (alma_app.sessions.manager) rank what this returns
with their own scores, so both see the same candidates for the same query.

The word search gets the query without its question words and pronouns (`words_that_count`):
"When did Caroline go to the support group?" asks for memories holding "Caroline", "support" and
"group", not "when" or "did", which many memories hold by chance. The embedding gets the whole
query: to the model those words are meaning, not noise.
"""

from __future__ import annotations

import functools
import re
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

# Words that say what kind of answer a question wants or who it is about, not what it is about.
# The store's BM25 analysis drops English stop words ("the", "is", ...); these it keeps. Not
# here: words that are also names or subjects ("may", the month; "type", "sort" in code).
_QUESTION_WORDS = """what when where who whom whose which why how
    did does do done doing was were been being has have had having
    can could would should shall might must
    i me my mine you your yours he him his she her hers we us our ours its them theirs
    about from any some kind ever"""
QUESTION_WORDS = frozenset(_QUESTION_WORDS.split())
_WORDS = re.compile(r"[\w'-]+")


def words_that_count(query: str) -> str:
    """The query less its question words and pronouns (and a possessive's 's); the query
    itself when nothing else is left, so a question of only such words still finds them."""
    kept = []
    for word in _WORDS.findall(query):
        word = word.removesuffix("'s").removesuffix("’s")
        if word.lower().strip("'-") not in QUESTION_WORDS:
            kept.append(word)
    return " ".join(kept) if kept else query


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
    preceding: st.Preceding | None = None,
) -> Hits:
    """Up to `limit` candidates of each search, merged; vector-only hits below the minimum
    similarity are dropped in hybrid mode (an unrelated query finds nothing). `preceding`: the
    vector search lets a row match through the row written just before it (store/preceding.py).
    """
    vector_rows: list[dict] = []
    text_rows: list[dict] = []
    pending: Future[list[dict]] | None = None
    lexical = functools.partial(
        store.text_search,
        table,
        words_that_count(query),
        where=where,
        limit=limit,
        columns=list(columns),
        prefilter=False,
        overfetch=LEXICAL_OVERFETCH,
        matched=mode == "hybrid",
    )
    # A query whose embedding is at hand (cached) leaves nothing for the word search to overlap:
    # it runs here, after the vector search. Beside it, every numpy call that lets go of the GIL
    # would hand it to the word search's Python for up to 5 ms.
    knows = getattr(embedder, "knows", None)  # optional: whether embed([text]) returns at once
    inline = mode == "lexical" or (mode == "hybrid" and knows is not None and knows(query))
    with store_errors():
        if mode == "hybrid" and not inline:
            pending = _LEXICAL_POOL.submit(lexical)
        try:
            if mode in ("hybrid", "vector"):
                vector = embedder.embed([query])[0]
                vector_rows = store.vector_search(
                    table,
                    vector,
                    where=where,
                    limit=limit,
                    columns=list(columns),
                    preceding=preceding,
                )
            if inline:
                text_rows = lexical()
        finally:
            if pending is not None:
                text_rows = pending.result()
    rows = {r["id"]: r for r in text_rows}
    rows.update({r["id"]: r for r in vector_rows})
    merged = scoring.merge_hits(
        [(r["id"], r["_distance"]) for r in vector_rows],
        # the word-match share is for fusing with cosine; the lexical mode shows BM25's ranking
        [(r["id"], r["_score"], r.get("_matched")) for r in text_rows],
        min_similarity=weights.min_similarity if mode == "hybrid" else -1.0,
        vector_limit=limit,
    )
    best_bm25 = max((r["_score"] for r in text_rows), default=0.0)
    return Hits(rows, merged, best_bm25)
