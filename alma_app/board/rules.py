"""The rules of the board as pure functions: what a valid item is, which status moves are
allowed, what a move does to an item's timings, and which items a finished one unblocks.

The tracker (progress.py) reads the board, applies these, and writes the result.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from alma_app.board.strategies import waiting_on
from alma_app.board.types import (
    ITEM_TYPES,
    NEEDS_DEPENDENCIES_DONE,
    TRANSITIONS,
    WORK_STATUSES,
    WorkItem,
)
from alma_app.checks import check_choice, check_number, check_text, check_text_list
from alma_app.errors import InvalidTransition, NotFoundError, ValidationError


def check_status(status: Any, argument: str = "status") -> str:
    if status not in WORK_STATUSES:
        raise ValidationError(argument, f"must be one of {WORK_STATUSES}, got {status!r}")
    return status


def copy_item(item: WorkItem) -> WorkItem:
    return replace(
        item,
        blocks=list(item.blocks),
        blocked_by=list(item.blocked_by),
        acceptance_criteria=list(item.acceptance_criteria),
        tests=list(item.tests),
        metadata=dict(item.metadata),
    )


def validate_item(item: WorkItem, board: dict[str, WorkItem]) -> None:
    """Check (and normalise) an item's fields; references must exist on the board.

    Raises ValidationError naming the field, NotFoundError for an unknown parent/dependency.
    """
    check_text("title", item.title)
    check_text("description", item.description, allow_empty=True)
    check_choice("item_type", item.item_type, ITEM_TYPES)
    if item.agent is not None:
        check_text("agent", item.agent)
    if isinstance(item.priority, bool) or not isinstance(item.priority, int):
        raise ValidationError("priority", f"expected an integer, got {item.priority!r}")
    if not 0 <= item.priority <= 100:
        raise ValidationError("priority", f"must be from 0 to 100, got {item.priority}")
    item.blocked_by = list(dict.fromkeys(check_text_list("blocked_by", item.blocked_by)))
    item.acceptance_criteria = check_text_list("acceptance_criteria", item.acceptance_criteria)
    item.tests = check_text_list("tests", item.tests)
    if item.tests_passing is not None and not isinstance(item.tests_passing, bool):
        raise ValidationError("tests_passing", "expected true, false or None")
    if item.estimate_hours is not None:
        item.estimate_hours = check_number("estimate_hours", item.estimate_hours, low=0)
    item.time_spent_hours = check_number("time_spent_hours", item.time_spent_hours, low=0)
    if not isinstance(item.metadata, dict):
        raise ValidationError("metadata", "expected a mapping")
    for argument, refs in (("blocked_by", item.blocked_by), ("parent_id", [item.parent_id])):
        for ref in refs:
            if ref is None:
                continue
            check_text(argument, ref)
            if ref == item.id:
                raise ValidationError(argument, "an item cannot depend on or contain itself")
            if ref not in board:
                raise NotFoundError("work item", ref)
    waits = waiting_on([*(b for b in board.values() if b.id != item.id), item])
    cycle = [d for d in item.blocked_by if d in waits.get(item.id, set())]
    if cycle:
        raise ValidationError("blocked_by", f"{cycle[0]!r} already waits on this item (a cycle)")


def check_transition(before: WorkItem, status: str, board: dict[str, WorkItem]) -> None:
    """Raise InvalidTransition, saying why, unless `before` may move to `status` now."""
    check_status(status)
    if status == before.status:
        raise InvalidTransition(before.id, before.status, status, f"it is already {status}")
    if status not in TRANSITIONS[before.status]:
        allowed = ", ".join(TRANSITIONS[before.status])
        why = f"from {before.status} an item may only move to: {allowed}"
        raise InvalidTransition(before.id, before.status, status, why)
    if status in NEEDS_DEPENDENCIES_DONE:
        for dep in before.blocked_by:
            other = board.get(dep)
            if other is None:
                why = f"it depends on {dep!r}, which does not exist"
                raise InvalidTransition(before.id, before.status, status, why)
            if other.status != "done":
                why = f"it waits on {dep!r} ({other.title}), which is {other.status}"
                raise InvalidTransition(before.id, before.status, status, why)


def apply_transition(
    before: WorkItem, status: str, now: datetime, tests_passing: bool | None = None
) -> WorkItem:
    """The item after the move: time spent accrues while in_progress; each start is an attempt."""
    item = copy_item(before)
    if before.status == "in_progress" and before.in_progress_since is not None:
        item.time_spent_hours = before.elapsed_hours(now)
        item.in_progress_since = None
    if status == "in_progress":
        item.attempt_count += 1
        item.started_at = item.started_at or now
        item.in_progress_since = now
        item.completed_at = None
    if status == "done":
        item.completed_at = now
    if tests_passing is not None:
        item.tests_passing = bool(tests_passing)
    item.status, item.updated_at = status, now
    return item


def freed_by(
    done_id: str, board: dict[str, WorkItem], now: datetime
) -> list[tuple[WorkItem, WorkItem]]:
    """(before, after) for each blocked item that waited on done_id and now waits on nothing
    unfinished: it moves back to pending. Items blocked for other reasons stay blocked."""
    freed = []
    for other in board.values():
        if other.status != "blocked" or done_id not in other.blocked_by:
            continue
        if all(board.get(d) is not None and board[d].status == "done" for d in other.blocked_by):
            after = copy_item(other)
            after.status, after.updated_at = "pending", now
            freed.append((other, after))
    return freed


def detach(
    removed_id: str, board: dict[str, WorkItem], now: datetime
) -> list[tuple[WorkItem, WorkItem]]:
    """(before, after) for items that referenced a removed item: children lose their parent,
    dependents stop waiting on it (and a blocked one with nothing left to wait on is pending)."""
    changed = []
    for other in board.values():
        if other.id == removed_id:
            continue
        if other.parent_id != removed_id and removed_id not in other.blocked_by:
            continue
        after = copy_item(other)
        if after.parent_id == removed_id:
            after.parent_id = None
        after.blocked_by = [d for d in after.blocked_by if d != removed_id]
        if after.status == "blocked" and all(
            d in board and board[d].status == "done" for d in after.blocked_by
        ):
            after.status = "pending"
        after.updated_at = now
        changed.append((other, after))
    return changed
