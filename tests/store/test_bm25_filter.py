"""The word search scores only the rows its filter lets through, with the whole table's
statistics: a row's score is the same whether the filter is narrow or absent."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from alma_store import bm25

TEXTS = [
    "flaky login test retried with a fixed sleep",
    "login form redesigned for release 3.0",
    "checkout page deadlocks under load",
    "retry the flaky checkout test with backoff",
    "the login endpoint times out under load",
    "payment API returns stale data",
    "flaky tests fixed by waiting for the element",
    "load test the login page before release",
]


def ranked(allowed: np.ndarray, query: str) -> tuple[list[tuple[int, int, float]], list[float]]:
    postings = bm25.Postings.build(pa.array(TEXTS))
    shares: list[float] = []
    hits = bm25.rank([postings], [None], [allowed], query, 10, None, shares)
    return hits, shares


def test_a_narrow_filter_keeps_each_passing_rows_score_and_share() -> None:
    everything, all_shares = ranked(np.ones(len(TEXTS), dtype=bool), "flaky login test under load")
    narrow = np.zeros(len(TEXTS), dtype=bool)
    narrow[[0, 4, 5, 7]] = True
    some, some_shares = ranked(narrow, "flaky login test under load")
    by_row = {
        row: (score, share) for (_, row, score), share in zip(everything, all_shares, strict=True)
    }
    assert [row for _, row, _ in some] == [row for _, row, _ in everything if narrow[row]]
    for (_, row, score), share in zip(some, some_shares, strict=True):
        assert (score, share) == by_row[row]


def test_a_filter_that_passes_nothing_finds_nothing() -> None:
    hits, shares = ranked(np.zeros(len(TEXTS), dtype=bool), "flaky login")
    assert hits == [] and shares == []


def _random_fragment(rng: np.random.Generator, rows: int) -> list[str]:
    words = ["flaky", "login", "test", "load", "checkout", "retry", "release", "page", "api"]
    return [" ".join(rng.choice(words, size=int(rng.integers(1, 7)))) for _ in range(rows)]


def test_spans_and_cached_frequencies_rank_exactly_as_the_whole_fragment_does() -> None:
    """A search told where its filter's rows lie, and reusing each term's live count, returns
    the same hits, scores and shares, with deleted rows, scattered postings and a second query
    that reads the cache."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        texts = [_random_fragment(rng, int(rng.integers(5, 60))) for _ in range(2)]
        postings = [bm25.Postings.build(pa.array(t)) for t in texts]
        for p in postings:  # scatter the rows as a re-clustered merge leaves them
            for term, (rows, freqs) in list(p.index.items()):
                order = rng.permutation(rows.size)
                p.index[term] = (rows[order], freqs[order])
        live = [rng.random(len(t)) > 0.2 for t in texts]
        allowed = []
        for t, alive in zip(texts, live, strict=True):
            first, end = sorted(int(x) for x in rng.integers(0, len(t) + 1, size=2))
            inside = np.zeros(len(t), dtype=bool)
            inside[first:end] = rng.random(end - first) > 0.3
            allowed.append(inside & alive)
        spans = []
        for mask in allowed:
            rows = np.flatnonzero(mask)
            spans.append((int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 0))
        frequencies: list[dict[str, int]] = [{}, {}]
        for query in ("flaky login test", "load retry page api"):
            plain: list[float] = []
            told: list[float] = []
            expected = bm25.rank(postings, live, allowed, query, 8, None, plain)
            got = bm25.rank(postings, live, allowed, query, 8, None, told, spans, frequencies)
            assert got == expected and told == plain
        assert frequencies[0] or frequencies[1]  # the live counts were kept


def test_ordered_postings_are_ascending_and_keep_each_rows_frequency() -> None:
    postings = bm25.Postings.build(pa.array(["login login", "checkout", "login test"]))
    rows, freqs = postings.index["login"]
    postings.index["login"] = (rows[::-1].copy(), freqs[::-1].copy())
    ordered_rows, ordered_freqs = postings.ordered("login")
    assert ordered_rows.tolist() == [0, 2]
    assert ordered_freqs.tolist() == [2.0, 1.0]
    assert postings.ordered("missing") is None
