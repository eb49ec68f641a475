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
