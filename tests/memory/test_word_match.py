"""Word matches in the hybrid ranking: the share of the query's words a memory holds (weighted by
how rare each word is) counts, not how short the memory is, and question words count for nothing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from alma_app.config import RetrievalWeights
from alma_app.memory.hybrid import words_that_count
from alma_app.memory.scoring import Candidate, merge_hits, relevance
from alma_app.memory.types import DomainKnowledge
from alma_store import bm25

TEXTS = [
    "Zara adopted a greyhound",  # 0: both rare words, short
    "Last spring, after months of visits to the shelter, Zara finally adopted a greyhound",  # 1
    "Zara went to the market",  # 2: the common word only
    "Zara likes tea",  # 3
    "Zara paints",  # 4
    "A greyhound ran past",  # 5: the rare word only
]


def shares(query: str) -> list[float]:
    """Each text's share of the query's words, as the store's BM25 reports it (0 if not a hit)."""
    postings = [bm25.Postings.build(pa.array(TEXTS))]
    found: list[float] = []
    hits = bm25.rank(postings, [None], [np.ones(len(TEXTS), bool)], query, 10, shares=found)
    by_row = {row: share for (_, row, _), share in zip(hits, found, strict=True)}
    return [by_row.get(row, 0.0) for row in range(len(TEXTS))]


def test_every_word_of_the_query_gives_a_full_share_however_long_the_memory():
    got = shares("Zara greyhound")
    assert got[0] == pytest.approx(1.0)
    assert got[1] == pytest.approx(1.0)  # BM25 scores this longer row lower; the share does not


def test_the_rare_word_weighs_more_than_the_common_one():
    got = shares("Zara greyhound")
    assert got[5] > got[2] > 0  # "greyhound" is in 3 rows, "Zara" in 5


def test_a_query_word_no_memory_holds_lowers_every_share():
    assert max(shares("Zara greyhound lurcher")) < 0.7


def test_question_words_and_pronouns_are_left_to_the_embedding():
    assert words_that_count("When did Zara adopt her greyhound?") == "Zara adopt greyhound"
    assert words_that_count("What is Melanie's job?") == "is Melanie job"  # "is": a stop word


def test_words_that_are_also_names_or_subjects_stay():
    assert words_that_count("What happened in May?") == "happened in May"
    assert words_that_count("Which type hints does it need?") == "type hints it need"


def test_a_question_of_only_question_words_is_searched_as_asked():
    assert words_that_count("What did he do?") == "What did he do?"


def test_holding_more_of_the_query_words_ranks_higher_at_the_same_similarity():
    weights = RetrievalWeights()
    merged = merge_hits(
        [("both", 0.5), ("one", 0.5), ("none", 0.5)],
        [("both", 3.0, 1.0), ("one", 5.0, 0.4)],
        min_similarity=0.2,
    )
    score = {k: relevance(c, 5.0, weights) for k, c in merged.items()}
    assert score["both"] > score["one"] > score["none"]
    assert merged["none"].matched == 0.0  # the word search reported shares: none held


def test_the_same_words_tie_and_the_meaning_decides():
    weights = RetrievalWeights()
    short = Candidate("short", similarity=0.40, bm25=7.0, matched=0.5)
    long_ = Candidate("long", similarity=0.45, bm25=5.5, matched=0.5)
    assert relevance(long_, 7.0, weights) > relevance(short, 7.0, weights)


def test_without_shares_from_the_store_the_bm25_score_is_fused():
    weights = RetrievalWeights()
    merged = merge_hits([("a", 0.5)], [("a", 10.0), ("b", 5.0)], min_similarity=0.2)
    assert merged["a"].matched is None and merged["b"].matched is None
    expected = (0.5 + weights.lexical_weight * 1.0 * 10 / (10 + weights.lexical_saturation)) / (
        1 + weights.lexical_weight
    )
    assert relevance(merged["a"], 10.0, weights) == pytest.approx(expected)


def test_the_word_search_ignores_question_words(disk_alma):
    alma = disk_alma  # on disk: the search mirror reports word shares
    asked = DomainKnowledge(agent="victor", domain="pets", fact="When did you say that, and why?")
    told = DomainKnowledge(agent="victor", domain="pets", fact="Zara adopted a greyhound")
    alma.add_memories([asked, told])
    found = alma.search(
        "When did Zara adopt the greyhound?", agent="victor", mode="lexical", limit=10
    )
    assert [m.id for m in found] == [told.id]


def test_a_rare_name_lifts_its_memory_in_the_hybrid_ranking(disk_alma):
    alma = disk_alma
    facts = [
        "The team met on Monday to plan the week",
        "The team met on Tuesday and Quentin brought the new budget",
        "The team met on Friday to review the week",
    ]
    memories = [DomainKnowledge(agent="victor", domain="notes", fact=f) for f in facts]
    alma.add_memories(memories)
    top = alma.retrieve("When did the team meet with Quentin?", agent="victor", top_k=1)
    assert [m.id for m in top.domain_knowledge] == [memories[1].id]


def test_the_store_reports_shares_only_when_asked(disk_alma):
    told = DomainKnowledge(agent="victor", domain="pets", fact="Zara adopted a greyhound")
    disk_alma.add_memories([told])
    store = disk_alma.store
    asked = store.text_search("memories", "Zara greyhound lurcher", columns=["id"], matched=True)
    plain = store.text_search("memories", "Zara greyhound lurcher", columns=["id"])
    assert [r["id"] for r in asked] == [r["id"] for r in plain] == [told.id]
    assert 0 < asked[0]["_matched"] < 1  # "lurcher": a query word no memory holds
    assert "_matched" not in plain[0]
