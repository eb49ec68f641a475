"""Fusion details that the LoCoMo work added: a word match's similarity bound, and neighbouring
context through the public API (only approved memories of the caller's scope give context)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alma_app.memory.scoring import merge_hits
from alma_app.memory.types import DomainKnowledge, utcnow


def test_a_word_match_outside_a_full_vector_page_gets_the_last_similarity_as_bound():
    vector = [("a", 0.2), ("b", 0.5)]  # cosine 0.8 and 0.5; the search stopped at 2
    merged = merge_hits(vector, [("c", 7.0)], min_similarity=0.2, vector_limit=2)
    assert merged["c"].similarity == pytest.approx(0.5)
    assert merged["c"].vector_rank is None and merged["c"].lexical_rank == 1


def test_a_word_match_is_unrelated_in_meaning_when_the_vector_search_saw_everything():
    merged = merge_hits([("a", 0.2)], [("c", 7.0)], min_similarity=0.2, vector_limit=100)
    assert merged["c"].similarity == 0.0


def add_story(alma, *, first_status: str) -> dict[str, str]:
    """A fact, its follow-up seconds later, and the same follow-up text two hours later."""
    now = utcnow()
    start = now - timedelta(hours=3)
    first = DomainKnowledge(
        agent="victor",
        domain="plumbing",
        fact="The zephyr valve sticks on cold mornings",
        status=first_status,
        created_at=start,
    )
    follow = "Warming it for a minute fixes the sticking"
    nearby = DomainKnowledge(
        agent="victor", domain="plumbing", fact=follow, created_at=start + timedelta(seconds=5)
    )
    later = DomainKnowledge(
        agent="victor", domain="plumbing", fact=follow, created_at=start + timedelta(hours=2)
    )
    alma.add_memories([first, nearby, later])
    return {"first": first.id, "nearby": nearby.id, "later": later.id}


def relevance_by_id(alma, query: str) -> dict[str, float]:
    return {m.id: m.score.relevance for m in alma.search(query, agent="victor", limit=10)}


def test_a_memory_written_moments_after_a_relevant_one_ranks_above_its_twin(alma):
    ids = add_story(alma, first_status="approved")
    found = relevance_by_id(alma, "zephyr valve sticking")
    assert found[ids["nearby"]] > found[ids["later"]]
    slice_ = alma.retrieve("zephyr valve sticking", agent="victor", top_k=3)
    ranked = [m.id for m in slice_.domain_knowledge]
    assert ranked.index(ids["nearby"]) < ranked.index(ids["later"])


def test_a_pending_memory_gives_no_context(alma):
    ids = add_story(alma, first_status="pending")
    slice_ = alma.retrieve("zephyr valve sticking", agent="victor", top_k=3)
    assert ids["first"] not in [m.id for m in slice_.all()]
    scores = {m.id: m.score.relevance for m in slice_.domain_knowledge}
    assert scores[ids["nearby"]] == scores[ids["later"]]
