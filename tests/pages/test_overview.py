"""The Overview page shows the store's counts per agent and type."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "overview.py")


def test_overview_shows_counts_per_agent_and_type(sample_config):
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Memories"] == "135"
    assert metrics["Pending review"] == "15"
    table = app.dataframe[0].value
    assert set(table.index) == {"helena", "victor", "nora", "(users)"}
    assert table.loc["helena"].sum() == 49


def test_overview_of_an_empty_store_says_how_to_fill_it(empty_config):
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    assert "alma demo" in app.info[0].value


def test_a_missing_config_is_a_readable_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ALMA_CONFIG", str(tmp_path / "missing.yaml"))
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    assert "config file does not exist" in app.error[0].value
