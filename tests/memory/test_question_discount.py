"""A memory that asks holds a question, not its answer: in hybrid ranking its relevance is
multiplied by 1 - retrieval.question_discount, so a question told earlier ("Where did you adopt
him?"), worded like the query that looks for its answer, no longer takes the answer's place.
The single-search modes show their search as it is."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from alma_app import ALMA, ConfigError
from alma_app.config import RetrievalWeights
from alma_app.memory import scoring
from alma_app.memory.search import contextual_relevance, discount_questions
from alma_app.memory.types import DomainKnowledge, utcnow

QUESTION = "Where did Ana adopt her dog Rex?"
ANSWER = "Ana adopted her dog Rex from the shelter near the river."


@pytest.mark.parametrize(
    ("text", "asking"),
    [
        ("Ben: Where did you adopt him?", True),
        ("Why does the build fail on ARM?  \n", True),
        ("Ana: From the shelter near the river.", False),
        ("Is it 3? No: the answer was 4.", False),
        ("", False),
        (None, False),
    ],
)
def test_a_memory_asks_when_its_text_ends_with_a_question_mark(text, asking):
    assert scoring.asks(text) is asking


def ranked(discount: float, *, context_weight: float = 0.0) -> list[str]:
    """A question slightly closer to the query than the answer, written a minute apart."""
    at = utcnow()
    merged = {
        "question": scoring.Candidate("question", similarity=0.62, matched=0.0),
        "answer": scoring.Candidate("answer", similarity=0.60, matched=0.0),
    }
    rows = {
        "question": {"agent": "helena", "created_at": at, "text": f"chat: {QUESTION}"},
        "answer": {"agent": "helena", "created_at": at + timedelta(minutes=1), "text": ANSWER},
    }
    relevance = contextual_relevance(merged, rows, 0.0, RetrievalWeights(), context_weight)
    discount_questions(relevance, rows, discount)
    return sorted(relevance, key=lambda k: -relevance[k])


def test_the_answer_ranks_above_a_question_as_close_to_the_query():
    assert ranked(0.15) == ["answer", "question"]
    assert ranked(0.15, context_weight=0.4) == ["answer", "question"]
    assert ranked(0.0) == ["question", "answer"]


def relevance_of(tmp_path: Path, name: str, discount: float, mode: str) -> dict[str, float]:
    alma = ALMA(
        project_id="p",
        storage_dir=str(tmp_path / name),
        embedding="hashing",
        retrieval={"question_discount": discount},
    )
    try:
        start = utcnow() - timedelta(hours=1)
        alma.add_memories(
            [
                DomainKnowledge(agent="helena", domain="chat", fact=text, created_at=start + gap)
                for text, gap in ((QUESTION, timedelta(0)), (ANSWER, timedelta(hours=1)))
            ]
        )
        found = alma.search(QUESTION, agent="helena", limit=5, mode=mode)
        return {m.summary(): m.score.relevance for m in found}  # type: ignore[union-attr]
    finally:
        alma.close()


def test_retrieve_holds_a_memory_that_asks_at_a_share_of_its_relevance(tmp_path):
    on = relevance_of(tmp_path, "on", 0.15, "hybrid")
    off = relevance_of(tmp_path, "off", 0.0, "hybrid")
    assert on[QUESTION] == pytest.approx(0.85 * off[QUESTION], abs=1e-5)
    assert on[ANSWER] == pytest.approx(off[ANSWER], abs=1e-6)


def test_the_vector_mode_shows_the_search_as_it_is(tmp_path):
    on = relevance_of(tmp_path, "on", 0.15, "vector")
    off = relevance_of(tmp_path, "off", 0.0, "vector")
    assert on == pytest.approx(off, abs=1e-6)


def test_a_discount_above_one_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="question_discount"):
        ALMA(
            project_id="p",
            storage_dir=str(tmp_path / "s"),
            embedding="hashing",
            retrieval={"question_discount": 1.5},
        )
