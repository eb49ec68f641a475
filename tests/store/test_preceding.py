"""A vector search with `Preceding` lets a row match through the row its group wrote just before
(store/preceding.py): similarity = max(own cosine, cosine(query, own + weight * predecessor)).
Only the search mirror does it; LanceDB's own search ranks by each row's vector alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from alma_app.tables import TABLES
from alma_store import Eq, Preceding, open_store

DIM = 8
START = datetime(2026, 1, 1, tzinfo=UTC)
QUESTION, ANSWER, OTHER = np.eye(DIM)[0], np.eye(DIM)[1], np.eye(DIM)[2]
BEFORE = Preceding(group="agent", order="created_at", within_s=600, weight=1.0)


def memory(id_: str, vector: np.ndarray, seconds: float, **fields) -> dict:
    row = {
        "id": id_,
        "type": "domain_knowledge",
        "agent": "helena",
        "user_id": None,
        "project_id": "p",
        "status": "approved",
        "category": "c",
        "text": id_,
        "confidence": 1.0,
        "created_at": START + timedelta(seconds=seconds),
        "updated_at": START,
        "validated_at": START,
        "shared_with": [],
        "payload": "{}",
        "metadata": "{}",
        "vector": np.asarray(vector, dtype=np.float32),
    }
    return {**row, **fields}


@pytest.fixture
def open_at(tmp_path):
    opened = []

    def open_(mirror: bool = True):
        store = open_store(str(tmp_path / "s"), vector_dim=DIM, tables=TABLES, mirror=mirror)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


def similarities(store, preceding=BEFORE, where=None) -> dict[str, float]:
    hits = store.vector_search(
        "memories", QUESTION, where=where, limit=10, columns=["id"], preceding=preceding
    )
    return {h["id"]: 1.0 - h["_distance"] for h in hits}


def test_an_answer_matches_a_query_about_the_question_written_just_before_it(open_at):
    store = open_at()
    store.add("memories", [memory("question", QUESTION, 0), memory("answer", ANSWER, 5)])
    found = similarities(store)
    # unit vectors at right angles: |q + a| = sqrt(2), so cos(query, q + a) = 1 / sqrt(2)
    assert found["answer"] == pytest.approx(1 / np.sqrt(2), abs=1e-6)
    assert found["question"] == pytest.approx(1.0)  # its own cosine is higher than any mix
    assert similarities(store, preceding=None)["answer"] == pytest.approx(0.0, abs=1e-6)


def test_the_weight_sets_how_much_of_the_predecessor_joins(open_at):
    store = open_at()
    store.add("memories", [memory("question", QUESTION, 0), memory("answer", ANSWER, 5)])
    half = Preceding("agent", "created_at", 600, weight=0.5)
    assert similarities(store, half)["answer"] == pytest.approx(0.5 / np.sqrt(1.25), abs=1e-6)


@pytest.mark.parametrize(
    "first",
    [
        memory("question", QUESTION, -1000),  # longer ago than the window
        memory("question", QUESTION, 5),  # at the same instant: a batch has no order
        memory("question", QUESTION, 0, agent="victor"),  # another agent's sequence
        memory("question", QUESTION, 10),  # written after, not before
    ],
    ids=["too-early", "same-instant", "other-agent", "after"],
)
def test_no_predecessor_no_mix(open_at, first):
    store = open_at()
    store.add("memories", [first, memory("answer", ANSWER, 5)])
    assert similarities(store)["answer"] == pytest.approx(0.0, abs=1e-6)


def test_a_predecessor_the_search_may_not_see_lends_nothing(open_at):
    store = open_at()
    store.add(
        "memories",
        [memory("question", QUESTION, 0, status="pending"), memory("answer", ANSWER, 5)],
    )
    approved = similarities(store, where=Eq("status", "approved"))
    assert set(approved) == {"answer"}
    assert approved["answer"] == pytest.approx(0.0, abs=1e-6)


def test_a_deleted_predecessor_lends_nothing(open_at):
    store = open_at()
    store.add("memories", [memory("question", QUESTION, 0), memory("answer", ANSWER, 5)])
    assert similarities(store)["answer"] > 0.7
    store.delete("memories", ["question"])
    assert similarities(store) == {"answer": pytest.approx(0.0, abs=1e-6)}


def test_only_the_one_just_before_counts(open_at):
    store = open_at()
    rows = [memory("question", QUESTION, 0), memory("aside", OTHER, 3), memory("answer", ANSWER, 5)]
    store.add("memories", rows)
    found = similarities(store)
    assert found["aside"] == pytest.approx(1 / np.sqrt(2), abs=1e-6)
    assert found["answer"] == pytest.approx(0.0, abs=1e-6)


def test_without_the_mirror_each_row_matches_by_its_own_vector(open_at):
    open_at().add("memories", [memory("question", QUESTION, 0), memory("answer", ANSWER, 5)])
    plain = open_at(mirror=False)
    assert similarities(plain)["answer"] == pytest.approx(0.0, abs=1e-6)


def test_a_predecessor_in_another_block_of_the_mirror_counts(open_at):
    """The newest memory often sits alone in a block of the mirror until the next merge."""
    store = open_at()
    earlier = [memory(f"old{i}", OTHER, -3600 + i) for i in range(7)]
    store.add("memories", [*earlier, memory("question", QUESTION, 0)])
    similarities(store)  # the mirror exists before the answer is written
    store.add("memories", [memory("answer", ANSWER, 5)])
    found = similarities(store)
    assert [b.num_rows for b in store._mirrors["memories"]._blocks] == [8, 1]
    assert found["answer"] == pytest.approx(1 / np.sqrt(2), abs=1e-6)


def test_a_predecessor_in_another_block_still_has_to_pass_the_filter(open_at):
    store = open_at()
    earlier = [memory(f"old{i}", OTHER, -3600 + i) for i in range(7)]
    store.add("memories", [*earlier, memory("question", QUESTION, 0, status="pending")])
    store.add("memories", [memory("answer", ANSWER, 5)])
    approved = similarities(store, where=Eq("status", "approved"))
    assert approved["answer"] == pytest.approx(0.0, abs=1e-6)


def test_searches_with_different_filters_each_see_their_own_predecessors(open_at):
    store = open_at()
    store.add(
        "memories",
        [memory("question", QUESTION, 0, status="pending"), memory("answer", ANSWER, 5)],
    )
    approved = Eq("status", "approved")
    for _ in range(2):  # what one filter's search found is not reused by the other's
        assert similarities(store)["answer"] == pytest.approx(1 / np.sqrt(2), abs=1e-6)
        assert similarities(store, where=approved)["answer"] == pytest.approx(0.0, abs=1e-6)


def test_an_order_column_that_is_not_a_time_falls_back_to_each_rows_own_vector(open_at):
    store = open_at()
    store.add("memories", [memory("question", QUESTION, 0), memory("answer", ANSWER, 5)])
    by_text = Preceding(group="agent", order="text", within_s=600)
    assert similarities(store, by_text)["answer"] == pytest.approx(0.0, abs=1e-6)
