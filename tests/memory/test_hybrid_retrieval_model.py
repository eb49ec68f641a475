"""Hybrid retrieval with the real MiniLM model: paraphrases, rare words and meanings all find
their memory."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model

FACTS = {
    "oauth": "Login uses OAuth 2.0 with access tokens that expire after 24 hours",
    "testid": "Every checkout button carries a data-testid attribute such as btn-PX7741",
    "n_plus_one": "The orders endpoint issued one database query per line item until we "
    "batched them",
    "ratelimit": "The public API allows 100 requests per minute per key before returning 429",
    "currency": "Prices are stored in integer cents to avoid floating point rounding errors",
    "a11y": "Screen readers announce form errors only when aria-live regions are used",
}


@pytest.fixture
def knowledge(model_alma):
    ids = {}
    for key, fact in FACTS.items():
        ids[key] = model_alma.add_domain_knowledge("victor", "api_patterns", fact).id
    return model_alma, ids


def top_fact(alma, query: str, mode: str = "hybrid") -> str:
    return alma.search(query, agent="victor", limit=3, mode=mode)[0].id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how long do sign-in credentials stay valid?", "oauth"),
        ("too many SQL round trips when loading an order", "n_plus_one"),
        ("what happens when a client calls the service too often", "ratelimit"),
        ("why are amounts kept as whole numbers", "currency"),
        ("making validation messages audible for blind users", "a11y"),
    ],
)
def test_a_paraphrased_question_retrieves_the_right_fact_first(knowledge, query, expected):
    alma, ids = knowledge
    result = alma.retrieve(query, agent="victor", top_k=3)
    assert result.domain_knowledge[0].id == ids[expected]


def test_a_lexical_only_query_finds_its_target(knowledge):
    """A made-up identifier has no meaning for the model; BM25 finds it."""
    alma, ids = knowledge
    assert top_fact(alma, "PX7741") == ids["testid"]
    hit = alma.search("PX7741", agent="victor", limit=1)[0]
    assert hit.score.lexical == 1.0


def test_a_semantic_only_query_finds_its_target(knowledge):
    """No word of the query appears in the fact; only the embedding links them."""
    alma, ids = knowledge
    query = "throttling clients that call too frequently"
    assert not set(query.split()) & set(FACTS["ratelimit"].lower().split())
    assert top_fact(alma, query) == ids["ratelimit"]
    hit = alma.search(query, agent="victor", limit=1)[0]
    assert hit.score.lexical == 0.0 and hit.score.similarity > 0.2


def test_hybrid_matches_or_beats_each_search_alone(knowledge):
    alma, ids = knowledge
    queries = {
        "PX7741": "testid",
        "throttling clients that call too often": "ratelimit",
        "sign-in credentials expiry": "oauth",
        "integer cents": "currency",
    }
    hybrid = sum(top_fact(alma, q) == ids[k] for q, k in queries.items())
    vector = sum(top_fact(alma, q, "vector") == ids[k] for q, k in queries.items())
    lexical = sum(
        bool(alma.search(q, agent="victor", limit=1, mode="lexical"))
        and top_fact(alma, q, "lexical") == ids[k]
        for q, k in queries.items()
    )
    assert hybrid == len(queries)
    assert hybrid >= vector and hybrid >= lexical


def test_unrelated_memories_do_not_reach_the_prompt(knowledge):
    alma, _ids = knowledge
    result = alma.retrieve("bake a sourdough loaf with rye flour", agent="victor")
    assert result.domain_knowledge == []
