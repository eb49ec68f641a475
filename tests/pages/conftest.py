"""Page tests run the real pages with Streamlit's AppTest against a store built in the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

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


@pytest.fixture
def store(sample_config: Path) -> Iterator[ALMA]:
    """A second handle on the page's store, to check what the page changed."""
    alma = ALMA.from_config(sample_config)
    yield alma
    alma.close()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[bytes, str | None]]:
    """Files the page offered for download, by media id: (content, file name).

    Streamlit keeps download data in its media storage; this records what is stored there
    (the storage itself still runs) so that a test can read the file a button would deliver.
    """
    files: dict[str, tuple[bytes, str | None]] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        file_id = original(self, path_or_data, mimetype, kind, filename)
        data = path_or_data.encode() if isinstance(path_or_data, str) else path_or_data
        files[file_id] = (bytes(data), filename)
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return files
