"""Exposure: the dashboard binds loopback by default; served anywhere else it refuses to run
without a password, and asks each session for it.

The server address is a Streamlit option; the tests set it in-process (AppTest runs the script
in this process) and never bind a socket, let alone a non-loopback one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from alma_app.ui.auth import PASSWORD_ENV, is_loopback

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def gated_app() -> None:
    """A page behind the gate, as streamlit_app.py puts every page behind it."""
    import streamlit as st

    from alma_app.ui.auth import require_password

    require_password()
    st.write("memories: 42")


@pytest.fixture
def served_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | None], None]]:
    """Set server.address for the scripts run in this test; restored afterwards."""
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.chdir(ROOT)  # no .streamlit/secrets.toml here; secrets come from the test
    original = config.get_option("server.address")
    yield lambda address: config.set_option("server.address", address)
    config.set_option("server.address", original)


def _shows_content(at: AppTest) -> bool:
    return any("memories: 42" in m.value for m in at.markdown)


def test_the_shipped_config_binds_loopback_and_sends_no_statistics() -> None:
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["address"] == "127.0.0.1"
    assert settings["browser"]["gatherUsageStats"] is False
    assert is_loopback(settings["server"]["address"])


@pytest.mark.parametrize(
    "address, loopback",
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("dashboard.example.com", False),
        ("", False),
        (None, False),  # Streamlit's default when unset: every interface
    ],
)
def test_which_addresses_count_as_loopback(address: str | None, loopback: bool) -> None:
    assert is_loopback(address) is loopback


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost", "::1"])
def test_on_loopback_the_dashboard_opens_without_a_password(served_on, address: str) -> None:
    served_on(address)
    at = AppTest.from_function(gated_app).run()
    assert not at.exception
    assert _shows_content(at)
    assert not at.text_input


@pytest.mark.parametrize("address", ["0.0.0.0", "192.168.1.20", None])
def test_exposed_without_a_password_it_refuses_to_run(served_on, address: str | None) -> None:
    served_on(address)
    at = AppTest.from_function(gated_app).run()
    assert not at.exception
    assert not _shows_content(at)
    assert not at.text_input, "no sign-in form when there is nothing to sign in with"
    (error,) = at.error
    assert PASSWORD_ENV in error.value and "secrets.toml" in error.value
    assert (address or "every network interface") in error.value


def test_exposed_with_a_password_in_the_environment_it_asks_for_it(
    served_on, monkeypatch: pytest.MonkeyPatch
) -> None:
    served_on("0.0.0.0")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    at = AppTest.from_function(gated_app).run()
    assert not _shows_content(at) and not at.error
    (field,) = at.text_input
    assert field.label == "Password"

    field.input("correct horse battery")
    at.button[0].click().run()
    assert not _shows_content(at)
    assert [e.value for e in at.error] == ["Wrong password."]

    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert _shows_content(at) and not at.error and not at.text_input
    at.run()  # later reruns of the same session stay signed in
    assert _shows_content(at)


def test_the_password_can_come_from_secrets_toml(served_on) -> None:
    served_on("10.0.0.5")
    at = AppTest.from_function(gated_app)
    at.secrets["dashboard_password"] = PASSWORD
    at.run()
    assert not _shows_content(at) and at.text_input
    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    assert _shows_content(at)


def test_changing_the_password_signs_sessions_out(served_on, monkeypatch) -> None:
    served_on("0.0.0.0")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    at = AppTest.from_function(gated_app).run()
    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    assert _shows_content(at)
    monkeypatch.setenv(PASSWORD_ENV, "a new password")
    at.run()
    assert not _shows_content(at) and at.text_input


def test_an_empty_password_does_not_count_as_one(served_on, monkeypatch) -> None:
    served_on("0.0.0.0")
    monkeypatch.setenv(PASSWORD_ENV, "")
    at = AppTest.from_function(gated_app).run()
    assert not _shows_content(at) and at.error and not at.text_input


def test_the_real_dashboard_is_gated_when_exposed(served_on, tmp_path, monkeypatch) -> None:
    served_on("0.0.0.0")
    config_file = tmp_path / "config.yaml"
    config_file.write_text(
        "alma:\n  project_id: exposed\n  embedding: hashing\n  storage: memory\n"
    )
    monkeypatch.setenv("ALMA_CONFIG", str(config_file))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    (error,) = at.error
    assert PASSWORD_ENV in error.value


def test_every_page_is_gated_even_when_opened_directly(served_on, tmp_path, monkeypatch):
    """A page script run on its own (as a direct URL can on a fresh server) still asks."""
    import yaml

    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump({"alma": {"project_id": "p", "embedding": "hashing"}}))
    monkeypatch.setenv("ALMA_CONFIG", str(config_file))
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    served_on("0.0.0.0")
    pages = sorted((ROOT / "pages").glob("*.py"))
    assert len(pages) >= 8
    for page in pages:
        at = AppTest.from_file(str(page), default_timeout=60).run()
        assert not at.exception, page.name
        assert [t.label for t in at.text_input] == ["Password"], page.name
        assert not at.dataframe and not at.metric, page.name
