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
from alma_app.memory.evidence import (
    changed_lately,
    likely_works,
    names_strategy,
    still_fails,
    supported,
    wilson_lower,
)
from alma_app.memory.types import set_clock, utcnow

WAIT = "Use explicit waits for elements before interacting"
MOCK = "Stub the backend with recorded responses"
KIND = "form_validation"


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


def test_likely_works_is_the_smoothed_rate_above_a_half() -> None:
    assert likely_works(1, 1) and likely_works(2, 3)
    assert not likely_works(1, 2) and not likely_works(0, 0) and not likely_works(3, 8)


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


def kinds(alma: ALMA, memory_type: str, agent: str = "helena") -> list[str]:
    return [
        getattr(m, "strategy", None) or m.pattern
        for m in alma.list_memories(agent=agent, memory_type=memory_type).items
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
    # 7 of 10: it works more often than not again, so a heuristic forms on probation at once
    assert [r.heuristic_action for r in results] == ["created", "reinforced", "reinforced"]
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


def test_a_first_success_forms_a_heuristic_on_probation_by_default(default_alma: ALMA) -> None:
    assert AgentScope(name="ada").min_occurrences_for_heuristic == 1
    first = learn(default_alma, "success", WAIT, 0, agent="ada")
    assert first.heuristic_created  # one of one: it works more often than not, so far
    assert first.heuristic.confidence == pytest.approx(2 / 3)  # a low confidence: (1 + 1) / (1 + 2)
    second = learn(default_alma, "success", WAIT, 1, agent="ada")
    assert second.heuristic_reinforced
    assert first.heuristic.confidence < second.heuristic.confidence  # the evidence raises it


def test_a_heuristic_on_probation_is_retired_by_its_first_failure(default_alma: ALMA) -> None:
    formed = learn(default_alma, "success", MOCK, 0, agent="ada")  # a lucky success
    assert formed.heuristic_created and kinds(default_alma, "heuristic", "ada") == [MOCK]
    failed = learn(default_alma, "failure", MOCK, 1, agent="ada")
    assert failed.heuristic_action == "retired" and failed.anti_pattern is None  # not condemned
    assert (
        kinds(default_alma, "heuristic", "ada") == []
        and kinds(default_alma, "anti_pattern", "ada") == []
    )
    assert [a.memory.id for a in default_alma.list_archived()] == [formed.heuristic.id]
    assert default_alma.history(formed.heuristic.id)[-1].action == "retire"


def test_an_established_heuristic_survives_failures_until_they_catch_up(default_alma: ALMA) -> None:
    for i in range(4):
        learn(default_alma, "success", WAIT, i, agent="ada")
    first, second = (learn(default_alma, "failure", WAIT, 4 + i, agent="ada") for i in range(2))
    assert first.heuristic_action == "weakened" and second.heuristic_action == "weakened"
    assert kinds(default_alma, "heuristic", "ada") == [
        WAIT
    ]  # 4 of 6 still works more often than not


def test_successes_form_a_heuristic_only_once_they_outnumber_failures(default_alma: ALMA) -> None:
    learn(default_alma, "failure", WAIT, 0, agent="ada")
    results = [learn(default_alma, "success", WAIT, 1 + i, agent="ada") for i in range(3)]
    assert [r.heuristic_action for r in results] == [None, "created", "reinforced"]  # 1/2, 2/3


def test_one_failure_whose_error_names_the_strategy_makes_an_anti_pattern(alma: ALMA) -> None:
    refusal = f"refused: '{MOCK.lower()}' is unsafe for a signup form (testing rule)"
    result = alma.learn(
        "helena", "Check the signup form", "failure", MOCK, task_type=KIND, error_message=refusal
    )
    assert result.anti_pattern_created and result.anti_pattern.why_bad == refusal
    assert kinds(alma, "anti_pattern") == [MOCK]


def test_one_failure_with_an_error_any_strategy_may_meet_makes_no_anti_pattern(alma: ALMA) -> None:
    assert learn(alma, "failure", MOCK, 0).anti_pattern is None  # "TimeoutError: ..."
    assert kinds(alma, "anti_pattern") == []


def test_an_error_naming_a_strategy_that_works_does_not_condemn_it(alma: ALMA) -> None:
    for i in range(4):
        learn(alma, "success", WAIT, i)
    refusal = f"refused: '{WAIT}' hit a rate limit"
    result = alma.learn(
        "helena", "Check the signup form", "failure", WAIT, task_type=KIND, error_message=refusal
    )
    assert result.anti_pattern is None and kinds(alma, "heuristic") == [WAIT]


def test_names_strategy_reads_the_strategy_in_the_error_only() -> None:
    assert names_strategy("Refused: 'stub  the BACKEND with recorded responses'", MOCK)
    assert not names_strategy("TimeoutError: element not found", MOCK)
    assert not names_strategy(None, MOCK)
    assert not names_strategy("error: run", "run")  # too short to be a strategy named


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
