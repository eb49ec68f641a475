"""BM25 over the in-process mirror: the lexical half of a search without LanceDB's FTS.

LanceDB's FTS index covers the rows that existed when it was last built or optimized; rows
written since are searched flat, fragment by fragment, and an agent writes one memory per call,
so between compactions the FTS cost grows with every write (measured at 10k memories after 30
single writes: 372 ms per query, 4 ms once the index was optimized). Here each mirrored
fragment (immutable, like Lance's) gets its postings once, when first searched, and a query
costs a few numpy operations per query term over the fragments that hold it.

The analysis is Lance's default FTS configuration (tantivy's): split on anything that is not a
letter or digit, lower case, ASCII folding, tokens over 40 characters dropped, English stop
words removed, Snowball English stemming. Scores are BM25 (k1 1.2, b 0.75) with document counts
and lengths over the table's live rows, like Lance's; the filter applies before ranking.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa

K1 = 1.2
B = 0.75
MAX_TOKEN = 40
# tantivy's English stop words (Lance's default list).
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)
_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """The analysed terms of a text, in order (repeats kept)."""
    words = [w for w in _WORD.findall(_fold(text)) if len(w) <= MAX_TOKEN and w not in STOP_WORDS]
    return _stemmer().stemWords(words) if words else []


@dataclass
class Postings:
    """One fragment's inverted index: term -> (rows, term frequencies), and row lengths."""

    index: dict[str, tuple[np.ndarray, np.ndarray]]
    lengths: np.ndarray  # float32 terms per row
    _ordered: set[str] = field(default_factory=set)  # terms whose rows are known ascending

    def ordered(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The term's (rows, frequencies) with rows ascending, so a span of rows is two binary
        searches. Built postings are ascending; merged and re-clustered ones are sorted here on
        a term's first search (replacing the entry is atomic, and both orders are valid)."""
        entry = self.index.get(term)
        if entry is None or term in self._ordered:
            return entry
        rows, freqs = entry
        if rows.size > 1 and bool((rows[1:] < rows[:-1]).any()):
            order = np.argsort(rows, kind="stable")
            entry = (rows[order], freqs[order])
            self.index[term] = entry
        self._ordered.add(term)
        return entry

    @classmethod
    def build(cls, texts: pa.Array | pa.ChunkedArray) -> Postings:
        rows: dict[str, list[int]] = {}
        freqs: dict[str, list[int]] = {}
        values = texts.to_pylist()
        lengths = np.zeros(len(values), dtype=np.float32)
        for row, text in enumerate(values):
            analysed = terms(text or "")
            lengths[row] = len(analysed)
            for term, count in Counter(analysed).items():
                rows.setdefault(term, []).append(row)
                freqs.setdefault(term, []).append(count)
        index = {
            term: (np.asarray(r, dtype=np.int64), np.asarray(freqs[term], dtype=np.float32))
            for term, r in rows.items()
        }
        return cls(index, lengths)

    def select(self, position: np.ndarray, rows: int) -> Postings:
        """These postings with row r moved to position[r], rows at -1 dropped."""
        index = {}
        for term, (r, f) in self.index.items():
            moved = position[r]
            keep = moved >= 0
            if keep.any():
                index[term] = (moved[keep], f[keep])
        lengths = np.zeros(rows, dtype=np.float32)
        kept = position >= 0
        lengths[position[kept]] = self.lengths[kept]
        return Postings(index, lengths)

    @classmethod
    def merge(cls, parts: list[Postings], position: np.ndarray) -> Postings:
        """The postings of the parts' rows concatenated, then moved: row i of the concatenation
        is row position[i] of the result (a mirror block merged and re-clustered)."""
        rows: dict[str, list[np.ndarray]] = {}
        freqs: dict[str, list[np.ndarray]] = {}
        lengths = np.zeros(position.size, dtype=np.float32)
        base = 0
        for part in parts:
            moved = position[base : base + part.lengths.size]
            lengths[moved] = part.lengths
            for term, (r, f) in part.index.items():
                rows.setdefault(term, []).append(moved[r])
                freqs.setdefault(term, []).append(f)
            base += part.lengths.size
        index = {
            term: (
                r[0] if len(r) == 1 else np.concatenate(r),
                freqs[term][0] if len(r) == 1 else np.concatenate(freqs[term]),
            )
            for term, r in rows.items()
        }
        return cls(index, lengths)


def rank(
    postings: list[Postings],
    live: list[np.ndarray | None],
    allowed: list[np.ndarray],
    query: str,
    limit: int,
    stats: list[tuple[int, float]] | None = None,
    shares: list[float] | None = None,
    spans: list[tuple[int, int]] | None = None,
    frequencies: list[dict[str, int]] | None = None,
) -> list[tuple[int, int, float]]:
    """The `limit` best (fragment, row, score) for a query, over rows allowed by the filter.

    `live` masks deleted rows out of the statistics; `allowed` is live and passing the filter;
    `stats` (each fragment's live rows and their summed length, see live_stats) saves
    recomputing them per query.

    `spans`, when given, bound each fragment's allowed rows to [first, end): a term's postings
    are then cut to the span by binary search before the filter is read. A mirror block is
    clustered by agent, so one agent's view is a few thousand contiguous rows of 100k, while a
    common term has postings all over the block (~70k read per query at 100k before).
    `frequencies`, one dict per fragment kept as long as its `live` mask, caches each term's
    live document frequency, which the IDF needs over the whole fragment.

    `shares`, when given, is filled with each returned hit's share of the query's terms weighted
    by their IDF: 1 when the row holds every analysed query term, whatever its length or how
    often it repeats them (BM25 ranks a short row above a long one with the same terms; the
    share does not, which is what fusing word matches with a semantic score needs:
    alma_app/memory/scoring.py). A query term no live row holds counts with the highest IDF,
    so a query worded unlike the table has a low share everywhere.
    """
    wanted = list(dict.fromkeys(terms(query)))
    if not wanted or limit <= 0:
        return []
    if stats is None:
        stats = [live_stats(p, mask) for p, mask in zip(postings, live, strict=True)]
    docs = sum(d for d, _ in stats)
    total_length = sum(t for _, t in stats)
    if docs == 0:
        return []
    if spans is None:
        spans = [(0, p.lengths.size) for p in postings]
    average = max(total_length / docs, 1e-9)
    found: list[list[tuple[int, np.ndarray, float, np.ndarray]]] = []
    query_weight = 0.0  # the IDFs of all the query's terms, held or not
    for term in wanted:
        per_term = []
        df = 0
        for index, p in enumerate(postings):
            entry = p.ordered(term)
            if entry is None:
                continue
            df += _live_frequency(term, entry[0], live[index], frequencies, index)
            first, end = spans[index]
            if first >= end:
                continue
            rows, tf = entry
            if first > 0 or end < p.lengths.size:
                low, high = np.searchsorted(rows, (first, end))
                rows, tf = rows[low:high], tf[low:high]
            # Only rows the filter lets through are scored (`allowed` is live too).
            passing = allowed[index][rows]
            if not passing.all():
                rows, tf = rows[passing], tf[passing]
            if rows.size:
                per_term.append((index, rows, tf))
        idf = float(np.log1p((docs - df + 0.5) / (df + 0.5)))
        query_weight += idf
        if df:
            found.append([(index, rows, idf, tf) for index, rows, tf in per_term])
    totals: dict[int, np.ndarray] = {}
    held: dict[int, np.ndarray] = {}
    for per_term in found:
        for index, rows, idf, tf in per_term:
            first, end = spans[index]
            norm = K1 * (1.0 - B + B * postings[index].lengths[rows] / average)
            summed = totals.get(index)
            if summed is None:  # over the span only: positions are rows - first
                summed = totals[index] = np.zeros(end - first, dtype=np.float64)
                if shares is not None:
                    held[index] = np.zeros(end - first, dtype=np.float64)
            at = rows - first
            summed[at] += idf * tf * (K1 + 1.0) / (tf + norm)  # a term's rows are distinct
            if shares is not None:
                held[index][at] += idf
    # Each fragment's `limit` best, then the best of those in numpy: only the hits returned
    # become Python tuples (a mirror of four blocks made 400 to keep 100).
    owners, rows_kept, scores_kept = [], [], []
    for index, summed in totals.items():
        unique = np.flatnonzero(summed)  # every row scored passes the filter
        scores = summed[unique]
        if unique.size > limit:
            top = np.argpartition(-scores, limit - 1)[:limit]
            unique, scores = unique[top], scores[top]
        owners.append(np.full(unique.size, index))
        rows_kept.append(unique + spans[index][0])
        scores_kept.append(scores)
    if not scores_kept:
        return []
    scores = np.concatenate(scores_kept)
    order = np.argsort(-scores, kind="stable")[:limit]  # ties keep the fragments' order
    best = list(
        zip(
            np.concatenate(owners)[order].tolist(),
            np.concatenate(rows_kept)[order].tolist(),
            scores[order].tolist(),
            strict=True,
        )
    )
    if shares is not None:
        offsets = {index: spans[index][0] for index in held}
        shares.extend(
            float(held[index][row - offsets[index]]) / query_weight for index, row, _ in best
        )
    return best


def _live_frequency(
    term: str,
    rows: np.ndarray,
    live: np.ndarray | None,
    frequencies: list[dict[str, int]] | None,
    index: int,
) -> int:
    """How many of the term's rows are live, from the fragment's cache when there is one."""
    if live is None:
        return int(rows.size)
    cache = frequencies[index] if frequencies is not None else None
    known = cache.get(term) if cache is not None else None
    if known is None:
        known = int(np.count_nonzero(live[rows]))
        if cache is not None:
            cache[term] = known
    return known


def live_stats(postings: Postings, live: np.ndarray | None) -> tuple[int, float]:
    """Live rows and their summed term count: a fragment's share of the BM25 statistics."""
    if live is None:
        return postings.lengths.size, float(postings.lengths.sum())
    return int(live.sum()), float(postings.lengths[live].sum())
