"""Retrieve reads the task's type (alma_app/memory/focus.py) only where it can change the
answer: the vote embeds every neighbouring task, the largest cost of a retrieve once the search
is fast."""

from __future__ import annotations

import alma_app.memory.focus as focus_module
from alma_app import ALMA
from alma_app.memory.focus import focused, task_type_of

WAIT = "Use explicit waits for elements before interacting"
MOCK = "Stub the backend with recorded responses"


def outcomes(alma: ALMA, times: int, strategy_for: dict[str, str]) -> None:
    for i in range(times):
        for kind, strategy in strategy_for.items():
            alma.learn(
                "helena",
                f"Validate the signup form, {kind} case {i}",
                "success",
                strategy,
                task_type=kind,
            )


def votes(alma: ALMA, monkeypatch) -> list[list[str]]:
    """Records the texts each task-type vote embeds."""
    calls: list[list[str]] = []
    vectors = alma.learner.vectors

    def spy(texts):
        calls.append(list(texts))
        return vectors(texts)

    monkeypatch.setattr(alma.learner, "vectors", spy)
    return calls


def test_without_advice_of_any_candidate_type_no_vote_is_taken_and_the_answer_is_the_same(
    alma: ALMA, monkeypatch
) -> None:
    outcomes(alma, 2, {"form_validation": WAIT, "selector_patterns": MOCK})  # no heuristic yet
    task = "Validate the signup form, form_validation case 7"
    where = alma.scope.visibility("helena", None)
    hits = alma.searcher.search(task, where, limit=0, per_type=5)
    kind = task_type_of(task, hits, "helena", alma.learner.vectors)
    assert kind is not None  # a vote would find a type...
    expected = focused(hits, [], "helena", kind)  # ...and nothing to change with it

    calls = votes(alma, monkeypatch)
    got = alma.retrieve(task, agent="helena")
    assert calls == []
    assert [m.id for m in got.all()] == [m.id for m in expected if m.TYPE == "outcome"][:5]


def test_with_advice_of_a_candidate_type_the_vote_is_taken(alma: ALMA, monkeypatch) -> None:
    outcomes(alma, 3, {"form_validation": WAIT, "selector_patterns": MOCK})  # heuristics form
    calls = votes(alma, monkeypatch)
    got = alma.retrieve("Validate the signup form field errors on mobile", agent="helena")
    assert calls and calls[0][0] == "Validate the signup form field errors on mobile"
    assert [h.task_type for h in got.heuristics] == ["form_validation"]


def test_when_the_nearest_tasks_disagree_the_category_named_like_the_task_decides(
    alma: ALMA, monkeypatch
) -> None:
    outcomes(alma, 3, {"form_validation": WAIT, "selector_patterns": MOCK})  # heuristics form
    task = "Check the form validation of the login page"
    unfocused = alma.searcher.search(
        task, alma.scope.visibility("helena", None), limit=0, per_type=5
    )
    assert {m.task_type for m in unfocused if m.TYPE == "heuristic"} == {
        "form_validation",
        "selector_patterns",
    }
    monkeypatch.setattr(focus_module, "task_type_of", lambda *args: None)  # a split vote

    got = alma.retrieve(task, agent="helena")
    assert [h.task_type for h in got.heuristics] == ["form_validation"]


def test_a_split_vote_and_no_category_like_the_task_leave_the_hits_as_they_are(
    alma: ALMA, monkeypatch
) -> None:
    outcomes(alma, 3, {"form_validation": WAIT, "selector_patterns": MOCK})
    monkeypatch.setattr(focus_module, "task_type_of", lambda *args: None)
    got = alma.retrieve("Validate the signup page quickly", agent="helena")
    assert {h.task_type for h in got.heuristics} == {"form_validation", "selector_patterns"}


def test_the_first_task_of_a_new_type_gets_no_advice_of_the_type_of_its_nearest_tasks(
    alma: ALMA,
) -> None:
    """Its nearest tasks are all another type's, but none close enough to share its type: the
    category named like it decides, and the other type's advice is left out."""
    outcomes(alma, 3, {"form_validation": WAIT})  # a heuristic forms
    known = alma.retrieve("Validate the signup form", agent="helena")
    assert [h.task_type for h in known.heuristics] == ["form_validation"]
    task = "Choose selector patterns for the signup form buttons"
    hits = alma.searcher.search(task, alma.scope.visibility("helena", None), limit=0, per_type=5)
    assert {m.task_type for m in hits if m.TYPE == "outcome"} == {"form_validation"}

    assert task_type_of(task, hits, "helena", alma.learner.vectors) is None
    assert alma.retrieve(task, agent="helena").heuristics == []


def test_a_close_task_of_a_known_type_still_gets_its_advice(alma: ALMA) -> None:
    outcomes(alma, 3, {"form_validation": WAIT})
    got = alma.retrieve("Validate the signup form, form_validation case 9", agent="helena")
    assert [h.strategy for h in got.heuristics] == [WAIT]
