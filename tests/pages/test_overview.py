"""The Overview page: counts per agent, type and status, growth over time and recent activity."""

from pagetools import page

from alma_app import insights


def overview():
    app = page("overview").run()
    assert not app.exception
    return app


def test_overview_shows_counts_per_agent_and_type(sample_config):
    app = overview()
    metrics = {m.label: m.value for m in app.main.metric}
    assert metrics["Memories"] == "135"
    assert metrics["Pending review"] == "15"
    assert metrics["Agents"] == "3"
    table = app.dataframe[0].value
    assert set(table.index) == {"helena", "victor", "nora", "(users)"}
    assert table.loc["helena"].sum() == 49


def test_charts_and_recent_activity(sample_config, store):
    store.approve(["sd-heur-004"], reviewer="carol")
    app = overview()
    charts = app.get("plotly_chart")
    assert len(charts) == 3  # per agent and type, status, growth
    activity = app.dataframe[1].value
    assert list(activity.loc[0, ["action", "actor", "memory_id"]]) == [
        "approve",
        "carol",
        "sd-heur-004",
    ]
    assert activity["at"].is_monotonic_decreasing


def test_growth_is_cumulative_per_type(sample_config, store):
    growth = insights.memory_growth(store)
    last = {}
    for row in growth:
        assert row["total"] == last.get(row["type"], 0) + row["added"]
        last[row["type"]] = row["total"]
    assert sum(last.values()) == 135


def test_the_agent_filter_narrows_every_figure(sample_config):
    app = overview()
    app.selectbox(key="alma_agent").set_value("nora").run()
    metrics = {m.label: m.value for m in app.main.metric}
    assert metrics["Memories"] == "20" and metrics["Pending review"] == "3"
    assert set(app.dataframe[0].value.index) == {"nora"}
    assert set(app.dataframe[1].value["agent"]) == {"nora"}


def test_overview_of_an_empty_store_says_how_to_fill_it(empty_config):
    app = overview()
    assert "alma demo" in app.info[0].value


def test_a_missing_config_is_a_readable_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ALMA_CONFIG", str(tmp_path / "missing.yaml"))
    app = overview()
    assert "config file does not exist" in app.error[0].value
