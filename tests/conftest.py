"""Shared fixtures: stores built in each test, the hashing embedder for speed, the real model
for integration tests (loaded once per session)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from alma_app import ALMA, HashingEmbedder, MiniLMEmbedder

ROOT = Path(__file__).resolve().parent.parent

AGENTS = {
    "helena": {
        "domain": "coding",
        "can_learn": ["testing_strategies", "selector_patterns", "form_validation"],
        "cannot_learn": ["backend_logic"],
        "min_occurrences_for_heuristic": 3,
    },
    "victor": {
        "domain": "coding",
        "can_learn": ["api_patterns", "database_queries"],
        "cannot_learn": ["frontend_selectors"],
        "min_occurrences_for_heuristic": 3,
    },
}


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    """The real all-MiniLM-L6-v2 embedder, shared by every test of the session."""
    embedder = MiniLMEmbedder()
    embedder.load()
    return embedder


@pytest.fixture
def alma() -> Iterator[ALMA]:
    """A fast in-memory ALMA (memory:// store, hashing embedder) for unit tests."""
    instance = ALMA(project_id="test-project", storage="memory", embedding="hashing", agents=AGENTS)
    yield instance
    instance.close()


@pytest.fixture
def disk_alma(tmp_path: Path) -> Iterator[ALMA]:
    """An ALMA on a real LanceDB directory with the hashing embedder."""
    instance = ALMA(
        project_id="test-project",
        storage_dir=str(tmp_path / "store"),
        embedding="hashing",
        agents=AGENTS,
    )
    yield instance
    instance.close()


@pytest.fixture
def model_alma(tmp_path: Path, minilm: MiniLMEmbedder) -> Iterator[ALMA]:
    """An ALMA on a real LanceDB directory with the real MiniLM model."""
    instance = ALMA(
        project_id="test-project",
        storage_dir=str(tmp_path / "store"),
        agents=AGENTS,
        embedder=minilm,
    )
    yield instance
    instance.close()


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a config file and return its path: write_config(text) or write_config(dict)."""
    import yaml

    def write(content: str | dict, name: str = "config.yaml") -> Path:
        path = tmp_path / ".alma" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
        return path

    return write


def hashing_embedder() -> HashingEmbedder:
    return HashingEmbedder()
