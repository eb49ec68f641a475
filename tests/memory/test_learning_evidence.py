"""Learning weighs rates and evidence, not counts alone; retrieval keeps to the task's type.

Found by benchmarks/learning_curve.py: anti-patterns from two failures of strategies that usually
work, heuristics from three lucky successes of a strategy that usually fails, one task type's
advice retrieved for another, and no way to unlearn a strategy that stopped working.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alma_app import ALMA
from alma_app.config import AgentScope
from alma_app.memory.evidence import changed_lately, still_fails, supported, wilson_lower
from alma_app.memory.types import set_clock, utcnow

WAIT = "Use explicit waits for elements before interacting"
MOCK = "Stub the backend with recorded responses"


def test_wilson_lower_bound_grows_with_evidence_not_with_the_rate_alone() -> None:
    assert wilson_lower(0, 0) == 0.0
    assert wilson_lower(2, 2) > 0.5 > wilson_lower(1, 1)  # two of two clear the bar, one does not
    assert wilson_lower(2, 3) < 0.5  # two failures beside a success: not yet "fails"
    assert wilson_lower(3, 4) < 0.5 < wilson_lower(30, 40)  # the same 75%, more evidence
    assert wilson_lower(9, 10) < 0.9


def test_a_run_counts_as_a_change_only_when_the_earlier_rate_makes_it_unlikely() -> None:
    worked = [True] * 9
    assert not changed_lately([*worked, False, False], False)  # two in a row: never enough
    assert changed_lately([*worked, False, False, False], False)
    assert not changed_lately([False, True, False, False, False], False)  # fails often anyway
    assert not changed_lately([False, False, False], False)  # nothing before the run
    assert not changed_lately([*worked, False, True], False)  # the run ended


def test_supported_weighs_the_rate_or_a_change() -> None:
    assert supported([False, False], False)  # a trap: every use failed
    assert not supported([True, True, False, False], False)  # half the uses worked
    assert not supported([False, True, False, False, True, False, False, True], True)  # 3 lucky
    assert supported([True, True, True], True)
    assert supported([True] * 8 + [False] * 3, False)  # always worked, now fails


def test_an_anti_pattern_stands_until_a_success_outweighs_its_failures() -> None:
    assert not still_fails([False, False, True])  # two failures, then a success: a coin toss
    assert still_fails([False] * 8 + [True])  # one lucky success among many failures
    assert still_fails([False] * 8 + [True, True])
    assert not still_fails([False] * 8 + [True] * 3)  # a run the old rate makes unlikely


def learn(
    alma: ALMA, outcome: str, strategy: str, i: int, kind: str = "form_validation", agent="helena"
):
    return alma.learn(
        agent,
        f"Check the signup form errors, case {i}",
        outcome,
        strategy,
        task_type=kind,
        error_message=None if outcome == "success" else "TimeoutError: element not found",
    )


def kinds(alma: ALMA, memory_type: str) -> list[str]:
    return [
        getattr(m, "strategy", None) or m.pattern
        for m in alma.list_memories(agent="helena", memory_type=memory_type).items
    ]


def test_two_failures_of_a_strategy_that_also_works_make_no_anti_pattern(alma: ALMA) -> None:
    for i, outcome in enumerate(("success", "success", "failure", "failure")):
        result = learn(alma, outcome, WAIT, i)
    assert result.anti_pattern is None
    assert kinds(alma, "anti_pattern") == []


def test_lucky_successes_among_many_failures_make_no_heuristic(alma: ALMA) -> None:
    outcomes = ["failure", "success", "failure", "failure", "success", "failure", "failure"]
    for i, outcome in enumerate([*outcomes, "success"]):
        result = learn(alma, outcome, MOCK, i)
    assert result.heuristic is None  # 3 successes in 8 uses
    assert kinds(alma, "heuristic") == []


def test_a_strategy_that_stops_working_is_unlearned_and_learned_again(alma: ALMA) -> None:
    for i in range(6):
        learn(alma, "success", WAIT, i)
    (heuristic,) = alma.list_memories(agent="helena", memory_type="heuristic").items

    assert learn(alma, "failure", WAIT, 6).anti_pattern is None
    assert learn(alma, "failure", WAIT, 7).anti_pattern is None  # could still be bad luck
    third = learn(alma, "failure", WAIT, 8)
    assert third.anti_pattern_created and third.heuristic_action == "retired"
    assert kinds(alma, "heuristic") == [] and kinds(alma, "anti_pattern") == [WAIT]
    assert [a.memory.id for a in alma.list_archived()] == [heuristic.id]  # restorable, not lost
    assert alma.history(heuristic.id)[-1].action == "retire"

    results = [learn(alma, "success", WAIT, 9 + i) for i in range(3)]
    assert [r.heuristic_action for r in results] == [None, "created", "reinforced"]  # 8 of 11
    assert kinds(alma, "anti_pattern") == [] and kinds(alma, "heuristic") == [WAIT]


def test_an_anti_pattern_is_retired_when_its_strategy_starts_succeeding(alma: ALMA) -> None:
    assert learn(alma, "failure", MOCK, 0).anti_pattern is None
    formed = learn(alma, "failure", MOCK, 1)
    assert formed.anti_pattern_created and kinds(alma, "anti_pattern") == [MOCK]

    retired = learn(alma, "success", MOCK, 2)  # avoided, tried anyway, and it worked
    assert retired.anti_pattern_action == "retired"
    assert retired.anti_pattern.id == formed.anti_pattern.id
    assert kinds(alma, "anti_pattern") == []
    assert [a.memory.id for a in alma.list_archived()] == [formed.anti_pattern.id]  # restorable
    assert alma.history(formed.anti_pattern.id)[-1].action == "retire"


def test_a_long_failing_strategy_is_unlearned_only_by_a_run_of_successes(alma: ALMA) -> None:
    for i in range(8):
        learn(alma, "failure", MOCK, i)
    assert kinds(alma, "anti_pattern") == [MOCK]
    first, second = (learn(alma, "success", MOCK, 8 + i) for i in range(2))
    assert first.anti_pattern_action is None and second.anti_pattern_action is None  # luck
    assert kinds(alma, "anti_pattern") == [MOCK]
    third = learn(alma, "success", MOCK, 10)  # three in a row at a 10% rate: the world changed
    assert third.anti_pattern_action == "retired"
    assert kinds(alma, "anti_pattern") == []


@pytest.fixture
def default_alma():
    """An agent that leaves min_occurrences_for_heuristic at its default."""
    agents = {"ada": {"can_learn": ["form_validation"]}}
    instance = ALMA(project_id="defaults", storage="memory", embedding="hashing", agents=agents)
    yield instance
    instance.close()


def test_a_heuristic_forms_from_strong_evidence_sooner_by_default(default_alma: ALMA) -> None:
    assert AgentScope(name="ada").min_occurrences_for_heuristic == 2
    assert learn(default_alma, "success", WAIT, 0, agent="ada").heuristic is None
    second = learn(default_alma, "success", WAIT, 1, agent="ada")
    assert second.heuristic_created  # two of two: the evidence clears the bar
    third = learn(default_alma, "success", WAIT, 2, agent="ada")
    assert third.heuristic_reinforced
    assert second.heuristic.confidence < third.heuristic.confidence  # it starts lower


def test_two_successes_beside_a_failure_are_not_enough_by_default(default_alma: ALMA) -> None:
    learn(default_alma, "failure", WAIT, 0, agent="ada")
    results = [learn(default_alma, "success", WAIT, 1 + i, agent="ada") for i in range(4)]
    assert [r.heuristic_action for r in results] == [None, None, None, "created"]  # 4 of 5


def test_a_min_occurrences_the_user_set_is_respected(alma: ALMA) -> None:
    assert alma.settings.agent("helena").min_occurrences_for_heuristic == 3  # tests/conftest.py
    results = [learn(alma, "success", WAIT, i) for i in range(3)]
    assert [r.heuristic_action for r in results] == [None, None, "created"]


def test_retrieval_keeps_to_the_task_type_its_nearest_tasks_had(alma: ALMA) -> None:
    for i in range(3):
        alma.learn(
            "helena",
            f"Validate the signup form field errors, case {i}",
            "success",
            WAIT,
            task_type="form_validation",
        )
        alma.learn(
            "helena",
            f"Validate the signup form selectors, case {i}",
            "success",
            MOCK,
            task_type="selector_patterns",
        )
    unfocused = alma.search("Validate the signup form field errors", memory_type="heuristic")
    assert {h.task_type for h in unfocused} == {"form_validation", "selector_patterns"}

    got = alma.retrieve("Validate the signup form field errors on mobile", agent="helena")
    assert [h.task_type for h in got.heuristics] == ["form_validation"]
    got = alma.retrieve("Validate the signup form selectors", agent="helena")
    assert [h.strategy for h in got.heuristics] == [MOCK]


@pytest.fixture
def frozen_clock():
    now = {"at": datetime(2026, 1, 1, tzinfo=UTC)}
    previous = set_clock(lambda: now["at"])
    yield now
    set_clock(previous)


def test_an_injected_clock_drives_timestamps_and_decay(alma: ALMA, frozen_clock) -> None:
    assert utcnow() == frozen_clock["at"]
    for i in range(3):
        result = learn(alma, "success", WAIT, i)
    assert result.outcome.timestamp == frozen_clock["at"]
    learned = alma.get_memory(result.heuristic.id)
    frozen_clock["at"] += timedelta(days=alma.settings.decay.heuristic)  # one half-life
    later = alma.get_memory(learned.id)
    assert later.effective_confidence == pytest.approx(learned.effective_confidence / 2)


def test_without_an_injected_clock_time_is_the_systems() -> None:
    assert abs((utcnow() - datetime.now(UTC)).total_seconds()) < 60
