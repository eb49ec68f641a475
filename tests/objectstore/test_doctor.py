"""`alma doctor` says whether the configured store is usable, and why not, without secrets."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from alma_app.cli import main
from tests.objectstore import azurite as emulator

KEY_VAR = "ALMA_TEST_AZURE_KEY"


def azure_config(tmp_path: Path, azurite: emulator.Azurite, uri: str, **overrides: str) -> Path:
    """A config whose account key comes from the environment, as production configs should."""
    options = dict(azurite.storage_options(), account_key="${" + KEY_VAR + "}", **overrides)
    body = {"project_id": "doc", "storage_dir": uri, "embedding": "hashing"}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"alma": {**body, "storage_options": options}}))
    return path


def doctor(config: Path, capsys) -> tuple[int, str]:
    status = main(["--config", str(config), "doctor"])
    out = capsys.readouterr()
    return status, out.out + out.err


def test_a_healthy_azure_store_passes_every_check(tmp_path, azurite, az_uri, monkeypatch, capsys):
    monkeypatch.setenv(KEY_VAR, emulator.ACCOUNT_KEY)
    status, text = doctor(azure_config(tmp_path, azurite, az_uri), capsys)
    assert status == 0, text
    assert "probe row written, read back and deleted" in text
    assert "Azure Blob Storage" in text and "'account_key': '***'" in text
    assert emulator.ACCOUNT_KEY not in text
    assert text.rstrip().endswith("the store is reachable and writable")


def test_a_missing_container_is_reported(tmp_path, azurite, monkeypatch, capsys):
    monkeypatch.setenv(KEY_VAR, emulator.ACCOUNT_KEY)
    config = azure_config(tmp_path, azurite, "az://never-created/store")
    status, text = doctor(config, capsys)
    assert status == 1
    assert "container or bucket does not exist" in text and "ContainerNotFound" in text
    assert "the store is NOT usable" in text


def test_wrong_credentials_are_reported_without_the_key(
    tmp_path, azurite, az_uri, monkeypatch, capsys
):
    wrong = base64.b64encode(b"well-formed, but not this account's key" * 2).decode()
    monkeypatch.setenv(KEY_VAR, wrong)
    status, text = doctor(azure_config(tmp_path, azurite, az_uri), capsys)
    assert status == 1
    assert "rejected the credentials" in text
    assert wrong not in text


def test_an_unreachable_endpoint_is_reported(tmp_path, azurite, az_uri, monkeypatch, capsys):
    monkeypatch.setenv(KEY_VAR, emulator.ACCOUNT_KEY)
    closed = f"http://127.0.0.1:{emulator.free_port()}/{emulator.ACCOUNT}"
    status, text = doctor(azure_config(tmp_path, azurite, az_uri, endpoint=closed), capsys)
    assert status == 1
    assert "cannot reach the storage endpoint" in text


def test_an_unset_secret_variable_is_a_config_failure(
    tmp_path, azurite, az_uri, monkeypatch, capsys
):
    monkeypatch.delenv(KEY_VAR, raising=False)
    status, text = doctor(azure_config(tmp_path, azurite, az_uri), capsys)
    assert status == 1
    assert f"environment variable {KEY_VAR} is not set" in text


def test_a_local_directory_store_passes(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"alma": {"project_id": "doc", "storage_dir": "store"}}))
    status, text = doctor(config, capsys)
    assert status == 0, text
    assert "a local directory" in text and "0 rows" in text


def test_a_malformed_key_is_reported_as_such(tmp_path, azurite, az_uri, monkeypatch, capsys):
    monkeypatch.setenv(KEY_VAR, "not base64 at all!")
    status, text = doctor(azure_config(tmp_path, azurite, az_uri), capsys)
    assert status == 1
    assert "access key in storage_options is malformed" in text
    assert "not base64 at all!" not in text


def test_a_missing_config_fails_the_first_check(tmp_path, capsys):
    status, text = doctor(tmp_path / "nope.yaml", capsys)
    assert status == 1
    assert text.startswith("FAIL  config")
