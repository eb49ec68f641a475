"""Page tests run the real pages with Streamlit's AppTest against a store built in the test."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alma_app import ALMA
from alma_app.sample import load_sample_memories

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sample_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config (hashing embedder for speed) over a store loaded with the sample data."""
    sample = yaml.safe_load((ROOT / "sample_data" / "config.yaml").read_text())
    sample["alma"]["embedding"] = "hashing"
    path = tmp_path / ".alma" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(sample))
    alma = ALMA.from_config(path)
    load_sample_memories(alma)
    alma.close()
    monkeypatch.setenv("ALMA_CONFIG", str(path))
    monkeypatch.chdir(ROOT)
    return path


@pytest.fixture
def empty_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / ".alma" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump({"alma": {"project_id": "empty", "embedding": "hashing"}}))
    monkeypatch.setenv("ALMA_CONFIG", str(path))
    monkeypatch.chdir(ROOT)
    return path
