"""The Work items page: a kanban board over the store, moves that reach it (and illegal ones
that say why), creating and editing items with dependencies, and what to do next."""

import re
from pathlib import Path

import pytest
from pagetools import in_the_sidebar
from streamlit.testing.v1 import AppTest

from alma_app import ALMA
from alma_app.progress import ProgressTracker
from alma_app.sample import load_sample_board

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "work_items.py")


@pytest.fixture
def board_config(sample_config: Path) -> Path:
    """The sample store plus the sample board (work items, sessions and handoffs)."""
    alma = ALMA.from_config(sample_config)
    load_sample_board(alma)
    alma.close()
    return sample_config


@pytest.fixture
def tracker(board_config: Path):
    alma = ALMA.from_config(board_config)
    yield ProgressTracker(alma.project_id, alma=alma)
    alma.close()


MOVE_KEY = re.compile(r"^move-(.+)-(pending|in_progress|blocked|review|done|failed)$")


def cards(app: AppTest) -> set[str]:
    """Ids of the cards on the board (each card has move buttons keyed by its id)."""
    return {m[1] for b in app.button if b.key and (m := MOVE_KEY.match(b.key))}


def run() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    return app


def test_the_board_has_a_column_per_status_with_the_sample_cards(tracker):
    app = run()
    text = " ".join(m.value for m in app.markdown)
    for title in ("Pending", "In progress", "Blocked", "Review", "Done", "Failed"):
        assert f"{title}**" in text
    assert "Pending** · 2" in text and "Done** · 9" in text
    assert "waits on “Test-support endpoint to seed coupons” (review)" in text
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Done"] == "9 / 20"
    assert metrics["Blocked"] == "2"
    board = tracker.board()
    latest_done = sorted((i for i in board if i.status == "done"), key=lambda i: i.completed_at)
    expected = {i.id for i in board if i.status != "done"} | {i.id for i in latest_done[-5:]}
    assert cards(app) == expected  # the done column shows its latest five
    app.toggle(key="kanban.all_done").set_value(True).run()
    assert cards(app) == {i.id for i in board}


def test_moving_a_card_reaches_the_store(tracker):
    app = run()
    app.button(key="move-sd-wi-17-done").click().run()
    assert "Moved “Add PgBouncer in transaction mode to staging”" in app.success[0].value
    assert tracker.get("sd-wi-17").status == "done"
    assert tracker.get("sd-wi-16").status == "pending"  # it waited only on sd-wi-17
    assert {m.label: m.value for m in app.metric}["Done"] == "10 / 20"


def test_an_illegal_move_explains_why_and_changes_nothing(tracker):
    app = run()
    app.button(key="move-sd-wi-16-in_progress").click().run()
    assert "waits on 'sd-wi-17'" in app.error[0].value
    app.button(key="move-sd-wi-08-review").click().run()
    assert "from failed an item may only move to: pending, in_progress" in app.error[0].value
    assert tracker.get("sd-wi-16").status == "blocked"
    assert tracker.get("sd-wi-08").status == "failed"


def test_a_new_item_that_waits_on_an_unfinished_one_starts_blocked(tracker):
    app = run()
    app.text_input(key="item-form-new-title").input("Load-test the checkout with k6")
    app.selectbox(key="item-form-new-agent").select("victor")
    app.slider(key="item-form-new-priority").set_value(75)
    app.multiselect(key="item-form-new-blocked-by").select("sd-wi-15")
    app.text_area(key="item-form-new-criteria").input("p95 under 300 ms\nno 5xx")
    app.button(key="item-form-new-submit").click().run()
    created = [i for i in tracker.board() if i.title == "Load-test the checkout with k6"]
    assert len(created) == 1
    item = created[0]
    assert (item.agent, item.priority, item.status) == ("victor", 75, "blocked")
    assert item.blocked_by == ["sd-wi-15"]
    assert item.acceptance_criteria == ["p95 under 300 ms", "no 5xx"]
    assert "Created “Load-test the checkout with k6”" in app.success[0].value


def test_editing_an_item_sets_its_dependencies(tracker):
    app = run()
    app.selectbox(key="edit-item").select("sd-wi-15").run()
    app.multiselect(key="item-form-sd-wi-15-blocked-by").select("sd-wi-17")
    app.text_input(key="item-form-sd-wi-15-title").input("Keyset pagination for orders")
    app.button(key="item-form-sd-wi-15-submit").click().run()
    item = tracker.get("sd-wi-15")
    assert item.blocked_by == ["sd-wi-17"]
    assert item.title == "Keyset pagination for orders"
    assert tracker.get("sd-wi-17").blocks == ["sd-wi-15", "sd-wi-16"]


def test_a_cycle_of_dependencies_is_refused_on_the_page(tracker):
    app = run()
    app.selectbox(key="edit-item").select("sd-wi-17").run()
    app.multiselect(key="item-form-sd-wi-17-blocked-by").select("sd-wi-16")
    app.button(key="item-form-sd-wi-17-submit").click().run()
    assert "cycle" in app.error[0].value
    assert tracker.get("sd-wi-17").blocked_by == []


def test_what_next_names_the_pick_of_each_strategy(tracker):
    app = run()
    table = app.dataframe[0].value
    picks = dict(zip(table["strategy"], table["picks"], strict=True))
    assert set(picks) == {"priority", "quick_wins", "unblock_others", "fifo"}
    for strategy, title in picks.items():
        assert title == tracker.get_next_item(strategy=strategy).title
    assert picks["unblock_others"] == "Add PgBouncer in transaction mode to staging"


def test_the_agent_filter_narrows_the_board_and_the_summary(tracker):
    unassigned = tracker.create_work_item(title="Triage the flaky checkout test")
    app = run()
    app.selectbox(key="work_items.agent").select("nora").run()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Done"] == "2 / 3"
    assert cards(app) == {i.id for i in tracker.board() if i.agent == "nora"}
    assert app.selectbox(key="alma_agent").value == "All agents"  # the sidebar keeps its own
    app.selectbox(key="work_items.agent").select("(unassigned)").run()
    assert cards(app) == {unassigned.id}


def test_the_board_starts_from_the_sidebar_agent_and_records_the_reviewer(tracker):
    app = in_the_sidebar(run(), "victor", "carol")
    assert app.selectbox(key="work_items.agent").value == "victor"
    assert cards(app) == {i.id for i in tracker.board() if i.agent == "victor"}
    app.button(key="move-sd-wi-17-done").click().run()
    assert tracker.get_status_log("sd-wi-17")[0].actor == "carol"
    app.text_input(key="item-form-new-title").input("Profile the order export")
    app.button(key="item-form-new-submit").click().run()
    created = next(i for i in tracker.board() if i.title == "Profile the order export")
    assert [(c.to_status, c.actor) for c in tracker.get_status_log(created.id)] == [
        ("pending", "carol")
    ]
    app.selectbox(key="alma_agent").set_value("nora").run()  # the page follows the sidebar
    assert app.selectbox(key="work_items.agent").value == "nora"
    assert cards(app) == {i.id for i in tracker.board() if i.agent == "nora"}


def test_progress_tab_draws_the_burn_down(tracker):
    app = run()
    charts = app.get("plotly_chart")
    assert len(charts) == 2
    assert "Burn-down" in charts[1].proto.spec


def test_an_empty_board_invites_the_first_item(empty_config):
    app = run()
    assert "No work items yet" in app.info[0].value
    app.text_input(key="item-form-new-title").input("First item")
    app.button(key="item-form-new-submit").click().run()
    assert "Created “First item”" in app.success[0].value
    assert not app.exception
