"""Fixtures for stores on Azure Blob Storage, emulated by Azurite on a free loopback port.

Azurite is started once per session and stopped by its process id. Each test gets its own
container. Without Azurite the tests are skipped with the reason, except in CI (CI=true),
where a missing emulator is a failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from alma_app import ALMA
from tests.objectstore import azurite as emulator

AGENTS = {
    "helena": {"domain": "coding", "can_learn": ["testing_strategies", "selector_patterns"]},
    "victor": {"domain": "coding", "can_learn": ["api_patterns", "database_queries"]},
}


@pytest.fixture(scope="session")
def azurite() -> Iterator[emulator.Azurite]:
    """A running Azurite blob service (skipped when unavailable, failing in CI)."""
    instance = emulator.start_or_skip()
    yield instance
    instance.stop()


@pytest.fixture
def az_uri(azurite: emulator.Azurite) -> str:
    """A fresh container's store URI: az://<container>/store."""
    return azurite.create_container(f"alma-{uuid.uuid4().hex[:12]}") + "/store"


@pytest.fixture
def az_settings(azurite: emulator.Azurite, az_uri: str) -> dict:
    """Keyword settings for an ALMA on the fresh az:// store (hashing embedder)."""
    return {
        "project_id": "test-project",
        "storage_dir": az_uri,
        "storage_options": azurite.storage_options(),
        "embedding": "hashing",
        "agents": AGENTS,
    }


@pytest.fixture
def az_alma(az_settings: dict) -> Iterator[ALMA]:
    """An ALMA whose store is a container in Azurite."""
    instance = ALMA(**az_settings)
    yield instance
    instance.close()
