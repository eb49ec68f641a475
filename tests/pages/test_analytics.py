"""The Analytics page and the DuckDB queries behind it (alma_app.insights), each checked against
the same figure computed in Python from the core API."""

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from alma_app import ALMA, insights
from alma_app.errors import ValidationError
from alma_app.progress import ProgressTracker
from alma_app.sample import load_sample_board
from alma_app.types import DomainKnowledge

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "analytics.py")


@pytest.fixture
def alma(sample_config: Path):
    handle = ALMA.from_config(sample_config)
    load_sample_board(handle)
    yield handle
    handle.close()


def everything(alma: ALMA) -> list:
    return alma.list_memories(limit=1000).items


def run() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    return app


def test_the_page_draws_its_three_charts_and_the_health_panel(alma):
    app = run()
    specs = [c.proto.spec for c in app.get("plotly_chart")]
    assert len(specs) == 3
    assert "Memories learned over time" in specs[0]
    assert "Success rate by task type" in specs[1]
    assert "stored vs effective" in specs[2]
    health = insights.memory_health(alma)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Stale"] == f"{health['shares']['stale']:.0%}"
    assert metrics["Never used"] == f"{health['shares']['never_used']:.0%}"
    assert "No retrievals recorded yet" in app.info[0].value


def test_effective_confidence_in_sql_matches_the_core(alma):
    rows = insights.heuristic_confidence(alma)
    assert len(rows) == 25
    for row in rows:
        memory = alma.get_memory(row["id"])
        assert row["effective"] == pytest.approx(memory.effective_confidence, rel=1e-4)
        assert row["stored"] == pytest.approx(memory.stored_confidence)


def test_success_rate_by_task_type_matches_the_outcomes(alma):
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for memory in everything(alma):
        if memory.type == "outcome":
            counts[(memory.task_type, memory.agent)][0] += 1
            counts[(memory.task_type, memory.agent)][1] += memory.success
    rows = insights.success_by_task_type(alma)
    assert {(r["task_type"], r["agent"]): [r["outcomes"], r["successes"]] for r in rows} == dict(
        counts
    )


def test_learning_over_time_ends_at_each_agents_totals(alma):
    rows = insights.learning_over_time(alma, "month")
    last: dict[tuple, int] = {}
    for row in rows:
        last[(row["agent"], row["type"])] = row["total"]
    stats = alma.stats()["by_agent_and_type"]
    assert last == {(a, t): n for a, per in stats.items() for t, n in per.items() if n}
    with pytest.raises(ValidationError, match="period"):
        insights.learning_over_time(alma, "year")


def test_histogram_and_stale_counts_match_python(alma):
    approved = [m for m in everything(alma) if m.status == "approved"]
    bins = insights.confidence_histogram(alma, bins=10)
    assert sum(b["memories"] for b in bins) == len(approved)
    for b in bins:
        inside = [
            m
            for m in approved
            if m.type == b["type"]
            and b["bin_start"] <= m.effective_confidence < b["bin_end"] + (b["bin_end"] == 1)
        ]
        assert len(inside) == b["memories"]
    cutoff = alma.now() - timedelta(days=60)
    health = insights.memory_health(alma, stale_days=60)
    assert health["stale"] == sum(1 for m in everything(alma) if m.clock < cutoff)


def test_average_curve_today_is_the_mean_effective_confidence(alma):
    now = alma.now()
    rows = insights.average_curves(alma, "agent", start=now, end=now + timedelta(days=30))
    today = {r["group"]: r["confidence"] for r in rows if r["time"] == rows[0]["time"]}
    helena = [
        m.effective_confidence
        for m in everything(alma)
        if m.agent == "helena" and m.status == "approved"
    ]
    assert today["helena"] == pytest.approx(sum(helena) / len(helena), rel=1e-3)


def test_a_near_duplicate_shows_up_in_the_health_panel(alma):
    fact = next(m for m in everything(alma) if m.type == "domain_knowledge")
    copy = DomainKnowledge(
        agent=fact.agent, domain=fact.domain, fact=fact.fact, project_id=alma.project_id
    )
    alma.add_memories([copy])  # a bulk import skips the near-duplicate check
    pairs = insights.duplicate_pairs(alma, 0.95)
    assert {(p["first_id"], p["second_id"]) for p in pairs} == {tuple(sorted((fact.id, copy.id)))}
    app = run()
    metric = next(m for m in app.metric if m.label == "Near-duplicates")
    assert metric.value == f"{2 / 136:.0%}"
    assert app.expander[1].label == "Near-duplicate pairs (1)"


def test_the_burn_down_ends_with_the_board_as_it_is(alma):
    board = ProgressTracker(alma.project_id, alma=alma).board()
    last = insights.board_burndown(alma)[-1]
    assert last["created"] == len(board)
    assert last["done"] == sum(1 for i in board if i.status == "done")
    assert last["day"].date() == alma.now().date()


def test_an_empty_store_says_how_to_fill_it(empty_config):
    app = run()
    assert "No memories yet" in app.info[0].value


def test_memories_agents_retrieve_are_ranked_with_their_text(alma):
    for _ in range(2):
        alma.retrieve("data-testid selectors for the login form", agent="helena")
    alma.usage.flush()
    app = run()
    table = app.dataframe[-1].value
    assert set(table.columns) >= {"memory", "type", "retrievals"}
    assert table["retrievals"].max() == 2


def test_the_sidebar_agent_narrows_the_charts_and_the_ranking(alma):
    for agent, query in (("helena", "data-testid selectors"), ("victor", "idempotency keys")):
        alma.retrieve(query, agent=agent)
    alma.usage.flush()
    app = run()
    app.selectbox(key="alma_agent").set_value("victor").run()
    assert not app.exception
    learning, success, _ = (c.proto.spec for c in app.get("plotly_chart"))
    assert "agent=victor" in learning and "agent=helena" not in learning
    assert '"victor"' in success and '"helena"' not in success
    victors = [m for m in everything(alma) if m.type == "heuristic" and m.agent == "victor"]
    approved = [m.stored_confidence for m in victors if m.status == "approved"]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Average stored"] == f"{sum(approved) / len(approved):.2f}"
    ranked = app.dataframe[-1].value
    retrieved = alma.get_memories(list(ranked["memory_id"]))
    assert retrieved and {m.agent for m in retrieved} == {"victor"}
