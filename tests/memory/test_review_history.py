"""Review (approve, reject, edit-and-approve) and history (every change, revert)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from alma_app import ALMA, Heuristic, MemoryNotFound, NotFoundError, ValidationError


def learned(alma: ALMA, strategy: str, status: str = "pending") -> Heuristic:
    memory = Heuristic(
        agent="helena",
        condition="testing a login form",
        strategy=strategy,
        task_type="form_validation",
        confidence=0.8,
        status=status,
    )
    alma.add_memories([memory], actor="helena")
    return memory


def stored_vector_matches_text(alma: ALMA, memory_id: str) -> bool:
    """The memory's vector in the store is the embedding of its current text."""
    memory = alma.get_memory(memory_id)
    stored = alma.repo.vectors([memory_id])[memory_id]
    return bool(np.allclose(stored, alma.embedder.embed([memory.text()])[0], atol=1e-5))


def retrieved_ids(alma: ALMA, task: str) -> set[str]:
    return {m.id for m in alma.retrieve(task, "helena").all()}


@pytest.mark.model
def test_pending_memories_are_invisible_to_retrieve_until_approved(model_alma: ALMA) -> None:
    agents = dict(model_alma.settings.agents)
    agents["helena"] = replace(agents["helena"], require_review=True)
    reviewed = model_alma.with_settings(agents=agents)
    for i in range(3):
        result = reviewed.learn(
            "helena",
            f"Test the login form validation, case {i}",
            "success",
            "Validate each form field incrementally and check its error message",
        )
    heuristic = result.heuristic
    assert heuristic.status == "pending"
    task = "How should I test login form validation?"
    assert heuristic.id not in retrieved_ids(reviewed, task)
    assert reviewed.stats()["pending"] == 1

    (approved,) = reviewed.approve([heuristic.id], reviewer="alice")
    assert approved.status == "approved"
    assert heuristic.id in retrieved_ids(reviewed, task)

    reviewed.reject([heuristic.id], reviewer="alice", reason="too generic")
    assert heuristic.id not in retrieved_ids(reviewed, task)
    assert reviewed.search("login form validation", status="rejected")[0].id == heuristic.id


def test_human_added_memories_are_approved(alma: ALMA) -> None:
    pref = alma.add_preference("alice", "style", "Prefer small commits")
    fact = alma.add_domain_knowledge("helena", "form_validation", "Emails are case-insensitive")
    assert pref.status == fact.status == "approved"


def test_bulk_approve_and_reject_are_one_commit_each(alma: ALMA) -> None:
    memories = [learned(alma, f"strategy number {i}") for i in range(4)]
    ids = [m.id for m in memories]
    version = alma.store.version("memories")
    changed = alma.approve(ids[:3], reviewer="alice")
    assert len(changed) == 3 and alma.store.version("memories") == version + 1
    assert alma.approve(ids[:3], reviewer="alice") == []  # already approved: nothing to do
    rejected = alma.reject(ids[2:], reviewer="bob", reason="duplicates another")
    assert {m.id for m in rejected} == set(ids[2:])
    statuses = {m.id: m.status for m in alma.list_memories(memory_type="heuristic").items}
    assert statuses == {
        ids[0]: "approved",
        ids[1]: "approved",
        ids[2]: "rejected",
        ids[3]: "rejected",
    }
    last = alma.history(ids[3])[-1]
    assert (last.action, last.actor, last.reason) == ("reject", "bob", "duplicates another")
    assert (last.before["status"], last.after["status"]) == ("pending", "rejected")


def test_review_with_an_unknown_id_changes_nothing(alma: ALMA) -> None:
    memory = learned(alma, "use page objects")
    with pytest.raises(MemoryNotFound):
        alma.approve([memory.id, "nope"], reviewer="alice")
    assert alma.get_memory(memory.id).status == "pending"
    with pytest.raises(ValidationError) as no_reason:
        alma.reject([memory.id], reviewer="alice", reason="  ")
    assert no_reason.value.argument == "reason"
    with pytest.raises(ValidationError):
        alma.approve([], reviewer="alice")


def test_edit_and_approve_rewrites_reembeds_and_logs_the_edit(alma: ALMA) -> None:
    memory = learned(alma, "wait a bit")
    edited = alma.edit_and_approve(
        memory.id, "alice", strategy="wait for the network to be idle", confidence=1
    )
    assert (edited.status, edited.strategy, edited.confidence) == (
        "approved",
        "wait for the network to be idle",
        1.0,
    )
    assert stored_vector_matches_text(alma, memory.id)
    event = alma.history(memory.id)[-1]
    assert event.action == "approve" and event.actor == "alice"
    assert event.changed_fields() == ["confidence", "status", "strategy"]
    with pytest.raises(ValidationError):
        alma.edit_and_approve(memory.id, "alice", id="other")


@pytest.mark.model
def test_history_shows_every_step_and_revert_restores_an_earlier_version(
    model_alma: ALMA,
) -> None:
    alma = model_alma
    memory = learned(alma, "click the button")
    alma.approve([memory.id], reviewer="alice")
    alma.update_memory(memory.id, strategy="press Enter instead", actor="bob")
    alma.validate(memory.id, actor="carol")
    events = alma.history(memory.id)
    assert [(e.action, e.actor) for e in events] == [
        ("create", "helena"),
        ("approve", "alice"),
        ("edit", "bob"),
        ("validate", "carol"),
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert events[0].before is None and events[0].after["strategy"] == "click the button"
    assert events[2].before["strategy"] == "click the button"

    reverted = alma.revert(memory.id, events[1].id, actor="alice")
    assert (reverted.strategy, reverted.status) == ("click the button", "approved")
    assert stored_vector_matches_text(alma, memory.id)  # re-embedded with the old text
    assert alma.history(memory.id)[-1].action == "revert"

    alma.delete_memories([memory.id], actor="bob")
    delete = alma.history(memory.id)[-1]
    assert delete.action == "delete" and delete.after is None
    back = alma.revert(memory.id, delete.id, actor="alice")
    assert alma.get_memory(memory.id).strategy == back.strategy == "click the button"
    assert alma.list_archived() == []
    with pytest.raises(NotFoundError):
        alma.revert(memory.id, "no-such-event", actor="alice")
