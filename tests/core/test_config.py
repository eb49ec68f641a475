"""Config files are validated with errors that name the file and the key."""

from __future__ import annotations

import pytest

from alma_app import ALMA, ConfigError, load_settings


def test_a_valid_config_is_read_with_agent_scopes(write_config):
    path = write_config(
        """
alma:
  project_id: my-project
  storage: lancedb
  storage_dir: store
  embedding: hashing
  agents:
    helena:
      domain: coding
      can_learn: [testing_strategies, selector_patterns]
      cannot_learn: [backend_logic]
      min_occurrences_for_heuristic: 3
"""
    )
    settings = load_settings(path)
    assert settings.project_id == "my-project"
    assert settings.storage_dir == str((path.parent / "store").resolve())
    helena = settings.agents["helena"]
    assert helena.can_learn == ("testing_strategies", "selector_patterns")
    assert helena.cannot_learn == ("backend_logic",)
    assert helena.min_occurrences_for_heuristic == 3


def test_a_missing_config_file_is_an_error_not_a_default(tmp_path):
    with pytest.raises(ConfigError, match="does not exist") as info:
        ALMA.from_config(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(info.value)


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("alma: [unclosed", None, "not valid YAML"),
        ("just a string", None, "top-level `alma:`"),
        ("alma:\n  project_id: p\n  colour: blue\n", "colour", "unknown setting"),
        ("alma:\n  storage: sqlite\n", "storage", "unknown storage 'sqlite'"),
        ("alma:\n  embedding: openai\n", "embedding", "unknown embedding 'openai'"),
        (
            "alma:\n  embedding_precision: int4\n",
            "embedding_precision",
            "unknown embedding precision 'int4'",
        ),
        ("alma:\n  search_mirror: 1\n", "search_mirror", "expected bool"),
        ("alma:\n  strict_agents: 'yes'\n", "strict_agents", "expected bool"),
        ("alma:\n  agents:\n    h:\n      can_learn: x\n", "agents.h.can_learn", "expected list"),
        ("alma:\n  agents:\n    h:\n      colour: 1\n", "agents.h.colour", "unknown agent"),
        (
            "alma:\n  agents:\n    h:\n      min_occurrences_for_heuristic: 0\n",
            "agents.h.min_occurrences_for_heuristic",
            "at least 1",
        ),
        ("alma:\n  retrieval:\n    relevance: -1\n", "retrieval.relevance", ">= 0"),
        ("alma:\n  decay:\n    heuristic: 0\n", "decay", "greater than 0"),
        ("alma:\n  project_id: ''\n", "project_id", "must not be empty"),
    ],
)
def test_bad_configs_name_the_file_and_key(write_config, text, key, message):
    path = write_config(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)
    if key:
        assert info.value.key == key


def test_secrets_come_from_environment_variables(write_config, monkeypatch):
    monkeypatch.setenv("ALMA_TEST_KEY", "s3cret")
    path = write_config("alma:\n  storage_options:\n    account_key: ${ALMA_TEST_KEY}\n")
    assert load_settings(path).storage_options == {"account_key": "s3cret"}
    path = write_config("alma:\n  storage_options:\n    account_key: ${ALMA_MISSING_VAR}\n")
    with pytest.raises(ConfigError, match="ALMA_MISSING_VAR is not set"):
        load_settings(path)


def test_the_keyword_constructor_validates_the_same_way():
    with pytest.raises(ConfigError, match="unknown setting"):
        ALMA(project_id="p", storage="memory", embedding="hashing", colour="blue")
    alma = ALMA(project_id="p", storage="memory", embedding="hashing")
    assert alma.project_id == "p"
