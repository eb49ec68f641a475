"""The original alma-memory README's examples run as written, importing from alma_app."""

from __future__ import annotations

import textwrap

import pytest

pytestmark = pytest.mark.model

CONFIG = textwrap.dedent(
    """
    alma:
      project_id: "my-project"
      storage: lancedb

      agents:
        helena:
          domain: coding
          can_learn:
            - testing_strategies
            - selector_patterns
          cannot_learn:
            - backend_logic
          min_occurrences_for_heuristic: 3

        victor:
          domain: coding
          can_learn:
            - api_patterns
            - database_queries
          cannot_learn:
            - frontend_selectors
          min_occurrences_for_heuristic: 3
    """
)


@pytest.fixture
def project(tmp_path, monkeypatch, minilm):
    (tmp_path / ".alma").mkdir()
    (tmp_path / ".alma" / "config.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_quick_start_runs_as_written_and_learning_shows_up_in_retrieval(project):
    from alma_app import ALMA

    # Initialize
    alma = ALMA.from_config(".alma/config.yaml")

    # Before task: Get relevant memories
    memories = alma.retrieve(task="Test the login form validation", agent="helena", top_k=5)

    # Inject into your prompt
    prompt = f"""
## Your Task
Test the login form validation

## Knowledge from Past Runs
{memories.to_prompt()}
"""
    assert "## Your Task" in prompt

    # After task: Learn from outcome
    for _ in range(3):
        alma.learn(
            agent="helena",
            task="Test login form",
            outcome="success",
            strategy_used="Tested empty fields, invalid email, valid submission",
        )

    memories = alma.retrieve(task="Test the login form validation", agent="helena", top_k=5)
    assert memories.outcomes, "retrieve must return what learn stored"
    assert len(memories.heuristics) == 1
    assert "invalid email" in memories.to_prompt()


def test_the_api_reference_calls_run(project):
    from alma_app import ALMA

    alma = ALMA.from_config(".alma/config.yaml")
    alma.add_preference("alice", "output", "User prefers verbose output")
    alma.add_domain_knowledge("helena", "testing_strategies", "Login uses OAuth 2.0")
    alma.learn("helena", "Test login form", "success", "data-testid selectors", feedback="ok")
    memories = alma.retrieve("Test login", "helena", top_k=5)
    assert memories.domain_knowledge
    alma.forget("helena", older_than_days=90, min_confidence=0.3)


def test_progress_and_sessions_run_as_in_the_original_readme(project):
    from alma_app.progress import ProgressTracker
    from alma_app.session import SessionManager

    tracker = ProgressTracker("my-project")
    item = tracker.create_work_item(
        title="Fix authentication bug",
        description="Login fails on mobile devices",
        priority=80,
        agent="Victor",
    )
    tracker.update_status(item.id, "in_progress")
    tracker.get_next_item(strategy="priority")
    summary = tracker.get_progress_summary()
    assert f"Done: {summary.done}/{summary.total}" == "Done: 0/1"

    manager = SessionManager("my-project")
    context = manager.start_session(agent="Helena", goal="Complete auth testing")
    manager.update_session(
        "Helena",
        context.session_id,
        decision="Using OAuth mock for testing",
        blocker="Staging API is down",
    )
    manager.create_handoff(
        "Helena",
        context.session_id,
        last_action="completed_oauth_tests",
        last_outcome="success",
        next_steps=["Test refresh tokens", "Add error cases"],
    )
    again = manager.start_session(agent="Helena", goal="Continue auth testing")
    assert again.previous_handoff.last_action == "completed_oauth_tests"
    assert "Staging API is down" in again.previous_handoff.blockers
    assert "Test refresh tokens" in manager.get_quick_reload("Helena")


def test_domain_factory_and_harness_run_as_in_the_original_readme(project):
    from alma_app import Context, create_harness
    from alma_app.domains import DomainMemoryFactory, get_research_schema

    factory = DomainMemoryFactory()
    alma = factory.create_alma(get_research_schema(), "my-research-project")
    schema = factory.create_schema(
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
    assert "closing_techniques" in schema.learning_categories

    from alma_app import ALMA

    alma = ALMA.from_config(".alma/config.yaml")
    harness = create_harness("coding", "helena", alma)
    result = harness.run(
        Context(
            task="Test the login form validation",
            project_id="my-app",
        )
    )
    assert "Test the login form validation" in result.output
