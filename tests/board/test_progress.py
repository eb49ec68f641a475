"""Work items live in the store: validated status moves, dependencies, strategies, summaries."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from alma_app import ALMA, InvalidTransition, NotFoundError, ValidationError
from alma_app.board.rules import apply_transition
from alma_app.board.tracker import ProgressTracker
from alma_app.board.types import WorkItem
from alma_app.memory.types import utcnow
from tests.conftest import ROOT


@pytest.fixture
def tracker(alma: ALMA) -> ProgressTracker:
    return ProgressTracker(alma.project_id, alma=alma)


def test_items_are_stored_and_read_back_by_a_new_tracker(alma, tracker):
    item = tracker.create_work_item(
        "Fix authentication bug",
        "Login fails on mobile devices",
        priority=80,
        agent="victor",
        item_type="bug",
        acceptance_criteria=["Login works on iOS Safari"],
        estimate_hours=3,
    )
    again = ProgressTracker(alma.project_id, alma=alma).get(item.id)
    assert again.title == "Fix authentication bug"
    assert again.description == "Login fails on mobile devices"
    assert (again.priority, again.agent, again.item_type, again.status) == (
        80,
        "victor",
        "bug",
        "pending",
    )
    assert again.acceptance_criteria == ["Login works on iOS Safari"]
    assert again.estimate_hours == 3.0
    assert ProgressTracker("another-project", alma=alma).list_items() == []


def test_update_changes_fields_but_not_status(tracker):
    item = tracker.create_work_item("Write docs", priority=20)
    updated = tracker.update(item.id, priority=60, tests=["test_docs_build"], tests_passing=True)
    assert tracker.get(item.id).priority == 60
    assert updated.tests == ["test_docs_build"] and updated.tests_passing is True
    with pytest.raises(ValidationError, match="update_status"):
        tracker.update(item.id, status="done")
    with pytest.raises(ValidationError, match="colour"):
        tracker.update(item.id, colour="red")
    with pytest.raises(ValidationError, match="priority: must be from 0 to 100"):
        tracker.update(item.id, priority=101)
    assert tracker.get(item.id).priority == 60


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "priority": "high"}, "priority"),
        ({"title": "x", "blocked_by": "abc"}, "blocked_by"),
        ({"title": "x", "estimate_hours": -2}, "estimate_hours"),
        ({"title": "x", "status": "finished"}, "status"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(tracker, kwargs, argument):
    with pytest.raises(ValidationError) as info:
        tracker.create_work_item(**kwargs)
    assert info.value.argument == argument
    assert tracker.list_items() == []


def test_unknown_ids_raise_not_found(tracker):
    with pytest.raises(NotFoundError, match="no work item with id 'nope'"):
        tracker.get("nope")
    with pytest.raises(NotFoundError):
        tracker.create_work_item("Child", parent_id="nope")
    assert tracker.get_work_item("nope") is None  # the original's lenient lookup


def test_list_filters_combine(tracker):
    tracker.create_work_item("A", agent="helena", item_type="bug", priority=90)
    tracker.create_work_item("B", agent="helena", item_type="task", priority=10)
    c = tracker.create_work_item("C", agent="victor", item_type="bug", priority=70)
    tracker.update_status(c.id, "in_progress")
    assert [i.title for i in tracker.list_items(agent="helena")] == ["A", "B"]
    assert [i.title for i in tracker.list_items(item_type="bug")] == ["A", "C"]
    assert [i.title for i in tracker.list_items(status="in_progress")] == ["C"]
    assert [i.title for i in tracker.list_items(min_priority=50, agent="helena")] == ["A"]
    with pytest.raises(ValidationError, match="status"):
        tracker.list_items(status="doing")


def test_illegal_moves_say_why(tracker):
    item = tracker.create_work_item("Review me")
    with pytest.raises(InvalidTransition, match="pending → review: from pending") as info:
        tracker.update_status(item.id, "review")
    assert (info.value.from_status, info.value.to_status) == ("pending", "review")
    with pytest.raises(InvalidTransition, match="already pending"):
        tracker.update_status(item.id, "pending")
    tracker.update_status(item.id, "in_progress")
    tracker.update_status(item.id, "done")
    with pytest.raises(InvalidTransition, match="done → failed"):
        tracker.update_status(item.id, "failed")
    assert tracker.get(item.id).status == "done"


def test_starting_before_a_dependency_is_done_names_the_dependency(tracker):
    schema = tracker.create_work_item("Design the schema")
    api = tracker.create_work_item("Build the API", blocked_by=[schema.id])
    assert api.status == "blocked"  # it waits on unfinished work
    tracker.update_status(api.id, "pending")
    with pytest.raises(InvalidTransition, match=r"waits on .* \(Design the schema\)") as info:
        tracker.update_status(api.id, "in_progress")
    assert schema.id in info.value.why
    assert tracker.get(schema.id).blocks == [api.id]


def test_finishing_an_item_unblocks_only_dependents_with_nothing_left_to_wait_on(tracker):
    first = tracker.create_work_item("First")
    second = tracker.create_work_item("Second")
    only_first = tracker.create_work_item("Needs first", blocked_by=[first.id])
    both = tracker.create_work_item("Needs both", blocked_by=[first.id, second.id])
    tracker.update_status(first.id, "in_progress")
    tracker.update_status(first.id, "done")
    assert tracker.get(only_first.id).status == "pending"
    assert tracker.get(both.id).status == "blocked"
    tracker.update_status(second.id, "in_progress")
    tracker.update_status(second.id, "done")
    assert tracker.get(both.id).status == "pending"
    tracker.update_status(both.id, "in_progress")  # now allowed


def test_dependency_cycles_are_refused(tracker):
    a = tracker.create_work_item("A")
    b = tracker.create_work_item("B", blocked_by=[a.id])
    with pytest.raises(ValidationError, match="cycle"):
        tracker.update(a.id, blocked_by=[b.id])


def test_timings_accrue_while_in_progress_and_each_start_is_an_attempt():
    t0 = utcnow()
    item = WorkItem(title="Flaky test", estimate_hours=4)
    started = apply_transition(item, "in_progress", t0)
    assert (started.started_at, started.attempt_count) == (t0, 1)
    paused = apply_transition(started, "blocked", t0 + timedelta(hours=1, minutes=30))
    assert paused.time_spent_hours == pytest.approx(1.5)
    resumed = apply_transition(paused, "in_progress", t0 + timedelta(hours=5))
    assert resumed.started_at == t0 and resumed.attempt_count == 2
    done = apply_transition(resumed, "done", t0 + timedelta(hours=6), tests_passing=True)
    assert done.time_spent_hours == pytest.approx(2.5)
    assert done.completed_at == t0 + timedelta(hours=6) and done.tests_passing is True
    assert done.remaining_hours == pytest.approx(1.5)


def test_update_status_keeps_timings_in_the_store(tracker):
    item = tracker.create_work_item("Task")
    tracker.update_status(item.id, "in_progress")
    tracker.update_status(item.id, "failed")
    tracker.update_status(item.id, "in_progress")
    tracker.update_status(item.id, "done", tests_passing=False)
    stored = tracker.get(item.id)
    assert stored.attempt_count == 2
    assert stored.started_at is not None and stored.completed_at >= stored.started_at
    assert stored.time_spent_hours > 0 and stored.tests_passing is False


def _record(item_id, priority, days, **extra):
    return {"id": item_id, "title": item_id, "priority": priority, "days_ago": days, **extra}


@pytest.fixture
def strategy_board(tracker):
    """Each strategy has exactly one right answer here, and each answer is different."""
    tracker.import_items(
        [
            _record("oldest", 30, 30, estimate_hours=5),
            _record("urgent", 90, 20, estimate_hours=10),
            _record("nearly-done", 45, 15, estimate_hours=10, time_spent_hours=9.5),
            _record("tiny", 40, 10, estimate_hours=1),
            _record("keystone", 50, 5, estimate_hours=6),
            _record("unestimated", 20, 4),
            # keystone → k1 → k2 → k3: three items wait on it, one directly
            _record("k1", 100, 3, status="blocked", blocked_by=["keystone"]),
            _record("k2", 10, 3, status="blocked", blocked_by=["k1"]),
            _record("k3", 10, 3, status="blocked", blocked_by=["k2"]),
            # tiny has two direct dependents: a direct-only count would pick it
            _record("t1", 10, 3, status="blocked", blocked_by=["tiny"]),
            _record("t2", 10, 3, status="blocked", blocked_by=["tiny"]),
            # never suggested: someone is on it, it is finished, or it waits on unfinished work
            _record("in-flight", 99, 40, status="in_progress", estimate_hours=0.1),
            _record("finished", 98, 50, status="done", estimate_hours=0.1),
            _record("waiting", 97, 60, status="pending", blocked_by=["urgent"]),
        ]
    )
    return tracker


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("priority", "urgent"),
        ("quick_wins", "nearly-done"),
        ("unblock_others", "keystone"),
        ("fifo", "oldest"),
        ("quick_win", "nearly-done"),  # the original's names still work
        ("blocked_unblock", "keystone"),
    ],
)
def test_each_strategy_picks_its_item(strategy_board, strategy, expected):
    assert strategy_board.get_next_item(strategy=strategy).id == expected


def test_only_actionable_items_are_suggested(strategy_board):
    actionable = {i.id for i in strategy_board.get_actionable_items()}
    assert actionable == {"oldest", "urgent", "nearly-done", "tiny", "keystone", "unestimated"}
    with pytest.raises(ValidationError, match="strategy"):
        strategy_board.get_next_item(strategy="random")


def test_next_item_for_an_agent_is_its_own_or_unassigned(tracker):
    tracker.create_work_item("Victor's", agent="victor", priority=90)
    tracker.create_work_item("Anyone's", priority=50)
    tracker.create_work_item("Helena's", agent="helena", priority=10)
    assert tracker.get_next_item(agent="helena").title == "Anyone's"
    assert tracker.get_next_item(agent="victor").title == "Victor's"
    assert tracker.get_next_item(agent="nobody").title == "Anyone's"


def test_progress_summary_counts_rates_and_blockers(tracker):
    done = [tracker.create_work_item(f"done {i}", agent="helena") for i in range(3)]
    for item in done:
        tracker.update_status(item.id, "in_progress")
        tracker.update_status(item.id, "done")
    failed = tracker.create_work_item("failed", agent="helena")
    tracker.update_status(failed.id, "failed")
    current = tracker.create_work_item("current", agent="helena")
    tracker.update_status(current.id, "in_progress")
    blocked = tracker.create_work_item("blocked", agent="helena", blocked_by=[current.id])
    tracker.create_work_item("next", agent="helena", priority=70)
    tracker.create_work_item("victor's", agent="victor")

    summary = tracker.get_progress_summary(agent="helena")
    assert (summary.total, summary.done, summary.failed) == (7, 3, 1)
    assert (summary.in_progress, summary.blocked, summary.pending) == (1, 1, 1)
    assert summary.completion_percentage == pytest.approx(42.9)
    assert summary.success_rate == pytest.approx(0.75)
    assert summary.current_item.id == current.id
    assert summary.next_suggested.title == "next"
    assert [b.id for b in summary.blockers] == [blocked.id]
    assert summary.time_spent_hours >= 0
    assert tracker.get_progress_summary().total == 8
    empty = ProgressTracker("empty", alma=tracker.alma).get_progress_summary()
    assert (empty.total, empty.completion_percentage, empty.success_rate) == (0, 0.0, None)


def test_status_changes_are_logged_with_before_and_after(tracker):
    item = tracker.create_work_item("Logged", agent="victor")
    tracker.update_status(item.id, "in_progress", reason="picked up")
    tracker.update_status(item.id, "done", actor="reviewer")
    log = tracker.get_status_log(item.id)
    assert [(c.from_status, c.to_status) for c in log] == [
        ("in_progress", "done"),
        ("pending", "in_progress"),
        (None, "pending"),
    ]
    assert log[0].actor == "reviewer" and log[1].reason == "picked up"
    assert [c.item_id for c in tracker.get_status_log(agent="helena")] == []
    events = tracker.store.sql(
        "SELECT count(*) AS n FROM events WHERE entity = 'work_item'", tables=["events"]
    ).to_pylist()
    assert events[0]["n"] == 3


def test_create_from_a_markdown_list_nests_children(tracker):
    items = tracker.create_from_list(
        """
## Sprint 12
- Checkout flow
  - [x] Cart page
  - Payment step
    * Stripe test card
1. Release notes
Some prose that is not an item.
""",
        agent="helena",
    )
    by_title = {i.title: i for i in items}
    assert list(by_title) == [
        "Checkout flow",
        "Cart page",
        "Payment step",
        "Stripe test card",
        "Release notes",
    ]
    assert by_title["Cart page"].status == "done"
    assert by_title["Cart page"].parent_id == by_title["Checkout flow"].id
    assert by_title["Stripe test card"].parent_id == by_title["Payment step"].id
    assert by_title["Release notes"].parent_id is None
    assert len(tracker.list_items(parent_id=by_title["Checkout flow"].id)) == 2
    with pytest.raises(ValidationError, match="no Markdown list"):
        tracker.create_from_list("just prose")


def test_delete_detaches_children_and_dependents(tracker):
    parent = tracker.create_work_item("Parent")
    child = tracker.create_work_item("Child", parent_id=parent.id)
    waiting = tracker.create_work_item("Waiting", blocked_by=[parent.id])
    tracker.delete(parent.id)
    with pytest.raises(NotFoundError):
        tracker.get(parent.id)
    assert tracker.get(child.id).parent_id is None
    assert tracker.get(waiting.id).blocked_by == []
    assert tracker.get(waiting.id).status == "pending"


def test_sample_work_items_import_idempotently(tracker):
    records = [
        json.loads(line)
        for line in (ROOT / "sample_data" / "work_items.jsonl").read_text().splitlines()
    ]
    assert tracker.import_items(records) == len(records)
    assert tracker.import_items(records) == len(records)
    items = tracker.list_items()
    assert len(items) == len(records)
    first = tracker.get(records[0]["id"])
    assert first.time_spent_hours == records[0]["time_spent_hours"]
    assert first.started_at < utcnow() - timedelta(days=records[0]["started_days_ago"] - 0.01)
    blocked = [r for r in records if r["blocked_by"]]
    for record in blocked:
        for dep in record["blocked_by"]:
            assert record["id"] in tracker.get(dep).blocks


def test_a_bad_import_record_stores_nothing(tracker):
    with pytest.raises(ValidationError, match=r"records\[1\]"):
        tracker.import_items([_record("ok", 10, 1), _record("bad", 10, 1, blocked_by=["ghost"])])
    with pytest.raises(ValidationError, match="unknown keys"):
        tracker.import_items([{"id": "x", "title": "x", "colour": "red"}])
    assert tracker.list_items() == []


def test_without_an_alma_the_tracker_opens_the_working_directory_config(
    write_config, tmp_path, monkeypatch
):
    write_config({"alma": {"project_id": "cfg", "storage_dir": "store", "embedding": "hashing"}})
    monkeypatch.chdir(tmp_path)
    item = ProgressTracker("my-project").create_work_item("From config")
    assert ProgressTracker("my-project").get(item.id).project_id == "my-project"
    assert (tmp_path / ".alma" / "store").is_dir()
