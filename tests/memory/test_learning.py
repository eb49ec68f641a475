"""learn(): outcomes become ONE heuristic or anti-pattern per similar strategy, within scope."""

from __future__ import annotations

import pytest

from alma_app import ALMA, ScopeViolation, ValidationError

WAITS = [
    "Use explicit waits for elements before interacting",
    "Add an explicit wait so the element appears before interacting with it",
    "Use explicit waits until each element is ready before interacting",
    "Rely on explicit waits for elements before any interaction",
    "Use explicit waiting for elements prior to interacting",
]
SLEEPS = [
    "Use hard-coded sleep() calls to wait for the page",
    "Sleep for a few seconds with sleep() before checking the page",
    "Put hard-coded sleep() calls in to wait for the page to load",
]
TESTIDS = "Select elements by their data-testid attribute"


def heuristics(alma: ALMA, agent: str = "helena") -> list:
    return alma.list_memories(agent=agent, memory_type="heuristic").items


def anti_patterns(alma: ALMA, agent: str = "helena") -> list:
    return alma.list_memories(agent=agent, memory_type="anti_pattern").items


@pytest.mark.model
def test_three_similar_successes_make_one_heuristic_and_five_make_it_stronger(
    model_alma: ALMA,
) -> None:
    def succeed(i: int, strategy: str):
        return model_alma.learn(
            "helena", f"Test the login form validation, case {i}", "success", strategy
        )

    assert succeed(0, WAITS[0]).heuristic is None
    assert succeed(1, WAITS[1]).heuristic is None
    third = succeed(2, WAITS[2])
    assert third.heuristic_created and third.task_type == "form_validation"
    created = third.heuristic
    assert (created.occurrence_count, created.success_count) == (3, 3)
    assert created.strategy in WAITS[:3] and "form validation" in created.condition
    assert len(created.source_outcome_ids) == 3

    for i in (3, 4):
        result = succeed(i, WAITS[i])
        assert result.heuristic_reinforced and result.heuristic.id == created.id

    (only,) = heuristics(model_alma)
    assert only.id == created.id
    assert (only.occurrence_count, only.success_count) == (5, 5)
    assert only.confidence > created.confidence
    assert [e.action for e in model_alma.history(only.id)] == ["create", "reinforce", "reinforce"]

    # A different strategy does not reinforce it; a failure of a similar one weakens it.
    assert succeed(5, TESTIDS).heuristic is None
    failed = model_alma.learn(
        "helena", "Test the signup form validation", "failure", WAITS[0], error_message="flaky"
    )
    assert failed.heuristic_action == "weakened"
    assert failed.heuristic.confidence < only.confidence
    assert failed.heuristic.occurrence_count == 6 and failed.heuristic.success_count == 5
    assert len(heuristics(model_alma)) == 1


@pytest.mark.model
def test_two_similar_failures_make_one_anti_pattern_whose_alternative_comes_from_a_success(
    model_alma: ALMA,
) -> None:
    success = model_alma.learn(
        "helena", "Test the checkout form validation", "success", WAITS[0], duration_ms=1200
    )
    assert success.anti_pattern is None
    first = model_alma.learn(
        "helena",
        "Test the checkout form validation",
        "failure",
        SLEEPS[0],
        error_message="TimeoutError: element not found",
    )
    assert first.anti_pattern is None
    second = model_alma.learn(
        "helena",
        "Test the address form validation",
        "failure",
        SLEEPS[1],
        error_message="TimeoutError: element not found",
    )
    assert second.anti_pattern_created
    anti = second.anti_pattern
    assert anti.pattern in SLEEPS[:2]
    assert anti.why_bad == "TimeoutError: element not found"
    assert anti.better_alternative == success.outcome.strategy_used
    assert anti.occurrence_count == 2

    third = model_alma.learn("helena", "Test the payment form validation", "failure", SLEEPS[2])
    assert third.anti_pattern_reinforced and third.anti_pattern.id == anti.id
    (only,) = anti_patterns(model_alma)
    assert only.occurrence_count == 3 and only.confidence > anti.confidence


@pytest.mark.model
def test_without_any_success_the_better_alternative_is_empty(model_alma: ALMA) -> None:
    for strategy in SLEEPS[:2]:
        result = model_alma.learn("helena", "Test the login form validation", "failure", strategy)
    assert result.anti_pattern_created
    assert result.anti_pattern.better_alternative == ""


@pytest.mark.model
def test_a_cannot_learn_category_is_refused_and_nothing_is_stored(model_alma: ALMA) -> None:
    with pytest.raises(ScopeViolation) as refused:
        model_alma.learn(
            "helena", "Implement the backend logic for payment processing", "success", "Use a queue"
        )
    assert refused.value.agent == "helena"
    assert refused.value.category == "backend_logic"
    assert "cannot_learn" in refused.value.rule

    with pytest.raises(ScopeViolation) as outside:
        model_alma.learn("victor", "Check the form", "success", "x", task_type="form_validation")
    assert "can_learn" in outside.value.rule
    assert model_alma.stats()["total"] == 0


@pytest.mark.model
def test_task_type_is_inferred_from_the_agents_categories(model_alma: ALMA) -> None:
    def kind(agent: str, task: str) -> str:
        return model_alma.learn(agent, task, "success", "whatever worked").task_type

    assert kind("helena", "Test the signup form's field validation messages") == "form_validation"
    assert kind("victor", "Optimize the slow SQL query for the monthly report") == (
        "database_queries"
    )
    assert kind("ops-bot", "Rotate the TLS certificates") == "general"  # not configured


@pytest.mark.model
def test_near_duplicate_knowledge_reinforces_instead_of_adding(model_alma: ALMA) -> None:
    fact = model_alma.add_domain_knowledge(
        "helena", "form_validation", "The login form locks the account after 5 failed attempts"
    )
    assert "reinforcements" not in fact.metadata
    again = model_alma.add_domain_knowledge(
        "helena", "form_validation", "The login form locks the account after five failed attempts"
    )
    assert again.id == fact.id and again.metadata["reinforcements"] == 1
    other = model_alma.add_domain_knowledge(
        "helena", "form_validation", "Email fields accept plus-addressing"
    )
    assert other.id != fact.id
    assert model_alma.stats()["by_type"]["domain_knowledge"] == 2
    assert [e.action for e in model_alma.history(fact.id)] == ["create", "reinforce"]


# ---------------------------------------------------------------- fast unit tests (hashing)


def test_outcome_must_be_success_or_failure_and_nothing_is_stored(alma: ALMA) -> None:
    with pytest.raises(ValidationError) as bad:
        alma.learn("helena", "Test the form", "partial", "x", task_type="form_validation")
    assert bad.value.argument == "outcome"
    with pytest.raises(ValidationError) as negative:
        alma.learn("helena", "Test the form", "success", "x", duration_ms=-1)
    assert negative.value.argument == "duration_ms"
    assert alma.stats()["total"] == 0


def test_every_outcome_is_stored_with_its_details(alma: ALMA) -> None:
    result = alma.learn(
        "helena",
        "Test the form",
        "failure",
        "Click submit twice",
        feedback="double submit",
        task_type="form_validation",
        duration_ms=40,
        error_message="409 Conflict",
    )
    stored = alma.get_memory(result.outcome.id)
    assert (stored.success, stored.duration_ms, stored.error_message, stored.feedback) == (
        False,
        40,
        "409 Conflict",
        "double submit",
    )
    assert result.heuristic is None and result.anti_pattern is None


def test_strict_agents_refuses_unknown_agents(alma: ALMA) -> None:
    strict = alma.with_settings(strict_agents=True)
    with pytest.raises(ScopeViolation):
        strict.learn("stranger", "Do a thing", "success", "x")
    assert alma.stats()["total"] == 0


def test_learned_heuristics_are_pending_when_the_agent_requires_review(alma: ALMA) -> None:
    from dataclasses import replace

    agents = dict(alma.settings.agents)
    agents["helena"] = replace(agents["helena"], require_review=True)
    reviewed = alma.with_settings(agents=agents)
    for i in range(3):
        result = reviewed.learn(
            "helena", f"Task {i}", "success", "Use the page object", task_type="form_validation"
        )
    assert result.heuristic_created and result.heuristic.status == "pending"


def test_identical_preferences_of_one_user_reinforce_but_not_across_users(alma: ALMA) -> None:
    first = alma.add_preference("alice", "style", "No emojis in commit messages")
    again = alma.add_preference("alice", "style", "No emojis in commit messages")
    bob = alma.add_preference("bob", "style", "No emojis in commit messages")
    assert again.id == first.id and again.metadata["reinforcements"] == 1
    assert bob.id != first.id and "reinforcements" not in bob.metadata
    assert alma.stats()["by_type"]["preference"] == 2
