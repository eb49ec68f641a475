"""An outcome keeps the embedding of its task alone (alma_app/memory/task_vectors.py), so that
retrieve's task-type vote (alma_app/memory/focus.py) reads stored vectors instead of embedding
every neighbouring task while the agent waits."""

from __future__ import annotations

import numpy as np
import pytest

from alma_app import ALMA
from alma_app.memory.task_vectors import COLUMN, decode
from tests.memory.test_focus import MOCK, WAIT, outcomes

TASK = "Validate the signup form, form_validation case 9"  # close to its type's tasks


@pytest.fixture(params=["memory", "disk"])
def store_alma(request, alma: ALMA, disk_alma: ALMA) -> ALMA:
    """The in-memory store (no search mirror) and a local one (lookups from the mirror)."""
    return alma if request.param == "memory" else disk_alma


def learn_both_types(alma: ALMA, times: int) -> None:
    outcomes(alma, times, {"form_validation": WAIT, "selector_patterns": MOCK})


def stored_task_vectors(alma: ALMA) -> dict[str, bytes | None]:
    ids = [m.id for m in alma.list_memories(limit=1000).items]
    rows = alma.repo.store.get("memories", ids, columns=["id", COLUMN])
    return {r["id"]: r[COLUMN] for r in rows}


def embedded_texts(alma: ALMA, monkeypatch) -> list[str]:
    """Every text the embedder is asked for from now on."""
    texts: list[str] = []
    embed = alma.repo.embedder.embed

    def spy(batch):
        texts.extend(batch)
        return embed(batch)

    monkeypatch.setattr(alma.repo.embedder, "embed", spy)
    return texts


def test_an_outcome_stores_the_vector_of_its_task_and_other_memories_none(
    store_alma: ALMA,
) -> None:
    alma = store_alma
    alma.learn("helena", "Validate the signup form", "failure", WAIT, task_type="form_validation")
    fact = alma.add_domain_knowledge("helena", "form_validation", "The signup form has 5 fields")
    outcome = alma.list_memories(memory_type="outcome").items[0]

    stored = stored_task_vectors(alma)
    assert stored[fact.id] is None
    alone = alma.repo.embedder.embed(["Validate the signup form"])[0]
    assert float(decode(stored[outcome.id]) @ alone) > 0.999  # float16, the task alone
    whole = alma.repo.embedder.embed([outcome.text()])[0]
    assert float(decode(stored[outcome.id]) @ whole) < 0.99  # not the text with the strategy


def test_editing_an_outcome_task_re_embeds_it_and_approving_it_keeps_it(alma: ALMA) -> None:
    alma.learn("helena", "Validate the signup form", "success", WAIT, task_type="form_validation")
    outcome = alma.list_memories(memory_type="outcome").items[0]

    alma.update_memory(outcome.id, task="Check the login page for broken links")
    edited = decode(stored_task_vectors(alma)[outcome.id])
    expected = alma.repo.embedder.embed(["Check the login page for broken links"])[0]
    assert float(edited @ expected) > 0.999

    alma.update_memory(outcome.id, metadata={"ticket": "QA-7"})  # text unchanged
    assert np.array_equal(decode(stored_task_vectors(alma)[outcome.id]), edited)


def test_the_vote_embeds_no_outcome_task_when_their_vectors_are_stored(
    store_alma: ALMA, monkeypatch
) -> None:
    alma = store_alma
    learn_both_types(alma, 3)  # heuristics of both types form: a vote is needed
    texts = embedded_texts(alma, monkeypatch)
    got = alma.retrieve(TASK, agent="helena")
    assert [h.task_type for h in got.heuristics] == ["form_validation"]
    assert set(texts) <= {TASK}  # the query, nothing else


def test_a_store_written_before_task_vectors_still_votes_by_embedding_the_tasks(
    store_alma: ALMA, monkeypatch
) -> None:
    alma = store_alma
    learn_both_types(alma, 3)
    expected = [h.id for h in alma.retrieve(TASK, agent="helena").heuristics]
    outcomes = alma.list_memories(memory_type="outcome", limit=100).items
    rows = alma.repo.rows([o.id for o in outcomes])
    alma.repo.store.upsert("memories", [{**r, COLUMN: None} for r in rows])  # as an older store

    texts = embedded_texts(alma, monkeypatch)
    got = alma.retrieve(TASK, agent="helena")
    assert [h.id for h in got.heuristics] == expected
    assert set(texts) & {o.task for o in outcomes}  # the tasks were embedded for the vote
