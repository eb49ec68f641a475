"""Domain schemas scope what agents learn; the harness retrieves, prompts, runs and learns."""

from __future__ import annotations

import pytest

from alma_app import ConfigError, ScopeViolation, ValidationError
from alma_app.harness.domains import (
    BUILTIN_DOMAINS,
    DomainMemoryFactory,
    get_coding_schema,
    get_research_schema,
)
from alma_app.harness.harness import Context, RunResult, create_harness

FAST = {"storage": "memory", "embedding": "hashing"}


def test_six_prebuilt_schemas_with_entities_relationships_and_categories():
    factory = DomainMemoryFactory()
    assert sorted(BUILTIN_DOMAINS) == [
        "coding",
        "content_creation",
        "customer_support",
        "general",
        "research",
        "sales",
    ]
    for name in BUILTIN_DOMAINS:
        schema = factory.get_schema(name)
        assert schema.entity_types and schema.relationship_types and schema.learning_categories
        declared = {e.name for e in schema.entity_types}
        for rel in schema.relationship_types:
            assert {rel.source_type, rel.target_type} <= declared
        assert all(e.attributes for e in schema.entity_types)
    research = get_research_schema()
    assert research.get_entity_type("paper").attributes[:2] == ("title", "authors")
    assert research.get_relationship_type("supports").target_type == "hypothesis"
    assert "testing_strategies" in get_coding_schema().learning_categories


def test_create_schema_from_the_original_readme():
    schema = DomainMemoryFactory().create_schema(
        "sales",
        {
            "entity_types": [
                {"name": "lead", "attributes": ["stage", "value"]},
                {"name": "objection", "attributes": ["type", "response"]},
            ],
            "learning_categories": [
                "objection_handling",
                "closing_techniques",
                "qualification_patterns",
            ],
        },
    )
    assert [e.name for e in schema.entity_types] == ["lead", "objection"]
    assert schema.is_category_allowed("closing_techniques")
    assert not schema.is_category_allowed("cold_calling")


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        ([], "config", "expected a mapping"),
        ({"learning_categories": []}, "config.learning_categories", "at least one"),
        ({"colour": "red", "learning_categories": ["a"]}, "config.colour", "unknown key"),
        (
            {"learning_categories": ["a"], "entity_types": [{"name": "lead"}, "lead"]},
            "config.entity_types[1].name",
            "listed twice",
        ),
        (
            {"learning_categories": ["a"], "entity_types": [{"name": "x", "attributes": "ab"}]},
            "config.entity_types[0].attributes",
            "expected a list",
        ),
        (
            {
                "learning_categories": ["a"],
                "entity_types": ["lead"],
                "relationship_types": [{"name": "r", "source_type": "lead", "target_type": "deal"}],
            },
            "config.relationship_types[0].target_type",
            "'deal' is not a declared entity type",
        ),
        (
            {"learning_categories": ["a b"]},
            "config.learning_categories[0]",
            "letters, digits",
        ),
        (
            {"learning_categories": ["a"], "excluded_categories": ["a"]},
            "config.excluded_categories",
            "also a learning category",
        ),
        (
            {"learning_categories": ["a"], "min_occurrences_for_heuristic": 0},
            "config.min_occurrences_for_heuristic",
            ">= 1",
        ),
    ],
)
def test_invalid_schemas_name_the_offending_path(config, path, message):
    with pytest.raises(ValidationError, match=message) as info:
        DomainMemoryFactory().create_schema("custom", config)
    assert info.value.argument == path


def test_schemas_load_from_yaml_and_round_trip(tmp_path):
    factory = DomainMemoryFactory()
    path = tmp_path / "legal.yaml"
    path.write_text(
        """
name: legal
description: Contract review
entity_types:
  - name: contract
    attributes: [party, term, governing_law]
  - name: clause
    attributes: [kind, risk]
relationship_types:
  - {name: contains, source_type: contract, target_type: clause}
learning_categories: [clause_risk, negotiation]
excluded_categories: [tax_advice]
"""
    )
    schema = factory.load_schema(path)
    assert schema.name == "legal" and factory.get_schema("legal") is schema
    assert schema.relationship_types[0].name == "contains"
    again = factory.create_schema(
        "legal", {k: v for k, v in schema.to_dict().items() if k != "name"}
    )
    assert again == schema

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: broken\nlearning_categories: []\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: learning_categories: must list"):
        factory.load_schema(bad)
    with pytest.raises(ConfigError, match="not valid YAML"):
        (tmp_path / "worse.yaml").write_text("name: [unclosed")
        factory.load_schema(tmp_path / "worse.yaml")


def test_create_alma_scopes_agents_by_the_schema():
    factory = DomainMemoryFactory()
    alma = factory.create_alma(get_research_schema(), "my-research-project", **FAST)
    try:
        assert alma.project_id == "my-research-project"
        scope = alma.settings.agent("researcher")
        assert scope.domain == "research"
        assert scope.can_learn == get_research_schema().learning_categories
        alma.check_scope("researcher", "literature_search")
        with pytest.raises(ScopeViolation):
            alma.check_scope("researcher", "testing_strategies")
    finally:
        alma.close()
    named = factory.create_alma("sales", "crm", agents=["ana", "ben"], **FAST)
    assert sorted(named.settings.agents) == ["ana", "ben"]
    with pytest.raises(ValidationError, match="unknown domain 'astrology'"):
        factory.create_alma("astrology", "p", **FAST)


def test_without_an_executor_the_harness_returns_the_prompt(alma):
    alma.add_domain_knowledge("helena", "form_validation", "Login errors render in #login-error")
    harness = create_harness("coding", "helena", alma)
    result = harness.run(Context(task="Test the login form validation", project_id="my-app"))
    prompt = result.output
    assert result.success and result.learned is None and prompt == result.prompt
    assert prompt.index("## You are helena") < prompt.index("## Setting: coding")
    assert prompt.index("## Setting: coding") < prompt.index("## Relevant memory")
    assert prompt.index("## Relevant memory") < prompt.index("## Current task")
    assert "#login-error" in prompt and "- test_runner" not in prompt
    assert "**test_runner**" in prompt
    assert "form_validation" in prompt  # helena's configured scope is her memory schema
    assert alma.list_memories(memory_type="outcome").total == 0


def test_a_harness_run_learns_an_outcome_that_a_later_retrieve_sees(alma):
    prompts: list[str] = []

    def executor(prompt: str) -> dict:
        prompts.append(prompt)
        return {
            "output": "12 validation cases pass",
            "success": True,
            "strategy": "check each field's error message before submitting",
            "tools_used": ["test_runner", "browser"],
            "task_type": "form_validation",
        }

    harness = create_harness("coding", "helena", alma)
    task = "Test the signup form validation"
    for _ in range(3):
        result = harness.run(Context(task=task), executor=executor)
        assert result.success and result.learn_error is None
    later = alma.retrieve(task, "helena")
    assert [o.task for o in later.outcomes] == [task] * 3
    assert later.outcomes[0].strategy_used.startswith("check each field's error message")
    assert "test_runner" in later.outcomes[0].strategy_used
    assert [h.task_type for h in later.heuristics] == ["form_validation"]
    assert "check each field's error message" not in prompts[0]
    assert "check each field's error message" in prompts[-1]  # the third run was told


def test_a_failing_executor_is_learned_as_a_failure(alma):
    def executor(prompt: str) -> str:
        raise TimeoutError("browser did not start")

    harness = create_harness("coding", "victor", alma)
    result = harness.run(
        Context(task="Load test the orders API", inputs={"task_type": "api_patterns"}),
        executor=executor,
    )
    assert not result.success and result.error == "TimeoutError: browser did not start"
    failures = alma.retrieve("Load test the orders API", "victor").outcomes
    assert [(o.success, o.error_message) for o in failures] == [
        (False, "TimeoutError: browser did not start")
    ]


def test_learning_outside_the_agents_scope_is_reported_not_stored(alma):
    harness = create_harness("coding", "helena", alma)
    result = harness.run(
        Context(task="Tune the SQL", inputs={"task_type": "backend_logic"}),
        executor=lambda prompt: "done",
    )
    assert result.output == "done" and result.learned is None
    assert "backend_logic" in result.learn_error
    assert alma.list_memories(memory_type="outcome").total == 0


def test_executor_results_are_checked(alma):
    harness = create_harness("general", "assistant", alma)
    with pytest.raises(ValidationError, match="unknown keys"):
        harness.run(Context(task="Plan a trip"), executor=lambda p: {"sucess": True})
    with pytest.raises(ValidationError, match="expected a str, dict or RunResult"):
        harness.run(Context(task="Plan a trip"), executor=lambda p: 42)
    ok = harness.run(Context(task="Plan a trip"), executor=lambda p: RunResult(True, "ok"))
    assert ok.output == "ok" and ok.prompt.startswith("## You are assistant")
