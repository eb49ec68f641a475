"""A fact told in two writes is found by a query about either half: a memory also matches through
the one its agent wrote just before it (retrieval.preceding_weight; store/preceding.py). Where
the store has no search mirror (`storage: memory`, object stores) each memory matches by its own
vector only."""

from __future__ import annotations

from datetime import timedelta

from alma_app import ALMA
from alma_app.memory.types import DomainKnowledge, utcnow

QUESTION = "Ana: How did you and Maya first meet?"
ANSWER = "Ben: It happened at yoga in the park, last spring."  # not one word of the query
ASKED = "How did Ana and Maya meet?"
ASIDES = [
    "Ana: The deploy failed because the database migration timed out.",
    "Ben: My dog Rex learned to open the back door.",
    "Ana: Pottery class starts again on Tuesday evenings.",
]


def tell(alma: ALMA, *, question_status: str = "approved", gap_s: float = 5.0) -> dict[str, str]:
    """Asides an hour earlier, then the question and, gap_s later, its answer."""
    start = utcnow() - timedelta(hours=2)
    asides = [
        DomainKnowledge(agent="helena", domain="chat", fact=t, created_at=start + timedelta(s))
        for s, t in enumerate(ASIDES)
    ]
    question = DomainKnowledge(
        agent="helena",
        domain="chat",
        fact=QUESTION,
        status=question_status,
        created_at=start + timedelta(hours=1),
    )
    answer = DomainKnowledge(
        agent="helena",
        domain="chat",
        fact=ANSWER,
        created_at=start + timedelta(hours=1, seconds=gap_s),
    )
    alma.add_memories([*asides, question, answer])
    return {"question": question.id, "answer": answer.id}


def retrieved(alma: ALMA) -> list[str]:
    return [m.id for m in alma.retrieve(ASKED, agent="helena", top_k=5).all()]


def test_the_answer_is_found_through_the_question_written_just_before_it(disk_alma):
    ids = tell(disk_alma)
    found = retrieved(disk_alma)
    assert ids["answer"] in found and ids["question"] in found


def test_an_answer_written_long_after_is_matched_on_its_own(disk_alma):
    ids = tell(disk_alma, gap_s=3600)
    assert ids["answer"] not in retrieved(disk_alma)


def test_a_pending_question_lends_nothing_to_its_answer(disk_alma):
    ids = tell(disk_alma, question_status="pending")
    found = retrieved(disk_alma)
    assert ids["question"] not in found and ids["answer"] not in found


def test_turned_off_each_memory_matches_by_its_own_vector(tmp_path):
    alma = ALMA(
        project_id="p",
        storage_dir=str(tmp_path / "store"),
        embedding="hashing",
        retrieval={"preceding_weight": 0},
    )
    try:
        ids = tell(alma)
        assert ids["answer"] not in retrieved(alma)
    finally:
        alma.close()


def test_without_a_search_mirror_the_mix_is_skipped(alma):
    """`storage: memory` searches with LanceDB's own index: no predecessor's vector joins."""
    ids = tell(alma)
    found = retrieved(alma)
    assert ids["question"] in found and ids["answer"] not in found
