"""Bulk ways onto the board: a Markdown list, the original's list of dicts, and JSONL records.

A collaborator of ProgressTracker (tracker.importer): it builds and checks the items, the tracker
writes them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from alma_app.board.rules import validate_item
from alma_app.board.types import WORK_STATUSES, WorkItem
from alma_app.checks import check_number, check_text
from alma_app.errors import NotFoundError, ValidationError
from alma_app.events import HUMAN, EventEntry
from alma_app.values import days_ago, utcnow

if TYPE_CHECKING:
    from alma_app.board.tracker import ProgressTracker

# "- title", "* title", "+ title", "1. title", "2) title", optionally "- [ ] title" / "- [x] title"
_LIST_LINE = re.compile(
    r"^(?P<indent>[ \t]*)(?:[-*+]|\d+[.)])\s+(?:\[(?P<box>[ xX])\]\s+)?(?P<t>.+)$"
)

RECORD_KEYS = {
    "id",
    "agent",
    "title",
    "description",
    "item_type",
    "status",
    "priority",
    "parent_id",
    "blocked_by",
    "acceptance_criteria",
    "tests",
    "tests_passing",
    "estimate_hours",
    "time_spent_hours",
    "attempt_count",
    "days_ago",
    "started_days_ago",
    "completed_days_ago",
    "metadata",
}


class ItemImporter:
    """Builds and checks many items of a tracker's project; the tracker writes them (one commit)
    with the events returned."""

    def __init__(self, tracker: ProgressTracker) -> None:
        self.tracker = tracker

    def from_markdown(
        self, items: str, agent: str | None, item_type: str, priority: int
    ) -> tuple[list[WorkItem], list[EventEntry]]:
        """One item per line of a Markdown list; nested lines become children (parent_id).

        `- [x] title` makes a done item. Lines that are not list items (headings, prose) are
        skipped."""
        check_text("items", items)
        now = utcnow()
        created: list[WorkItem] = []
        stack: list[tuple[int, WorkItem]] = []
        for line in items.splitlines():
            match = _LIST_LINE.match(line)
            if not match:
                continue
            indent = len(match["indent"].replace("\t", "    "))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            done = (match["box"] or "").lower() == "x"
            item = WorkItem(
                project_id=self.tracker.project_id,
                agent=agent,
                title=match["t"].strip(),
                item_type=item_type,
                priority=priority,
                parent_id=stack[-1][1].id if stack else None,
                status="done" if done else "pending",
                completed_at=now if done else None,
            )
            created.append(item)
            stack.append((indent, item))
        if not created:
            raise ValidationError("items", "no Markdown list lines (`- title`) found")
        board = {i.id: i for i in self.tracker.board()} | {i.id: i for i in created}
        for item in created:
            validate_item(item, board)
        actor = agent or HUMAN
        return created, [(i.id, "create", actor, None, i.as_dict(), None) for i in created]

    def from_records(
        self, records: Sequence[dict[str, Any]], actor: str
    ) -> tuple[list[WorkItem], list[EventEntry]]:
        """Items from sample_data/work_items.jsonl-style records, keeping their ids (re-importing
        replaces the same rows instead of adding copies). `*_days_ago` are relative to now.
        All records are checked before any is returned."""
        if isinstance(records, dict | str) or not isinstance(records, Sequence):
            raise ValidationError("records", "expected a list of work item records")
        now = utcnow()
        items = [self._item_from_record(i, r, now) for i, r in enumerate(records)]
        board = {i.id: i for i in self.tracker.board()}
        previous = {i.id: i.as_dict() for i in items if i.id in board}
        board |= {i.id: i for i in items}
        for n, item in enumerate(items):
            try:
                validate_item(item, board)
            except (ValidationError, NotFoundError) as exc:
                raise ValidationError(f"records[{n}]", str(exc)) from exc
        events = [
            (i.id, "import", actor, previous.get(i.id), i.as_dict(), "import_items") for i in items
        ]
        return items, events

    def _item_from_record(self, n: int, record: Any, now: Any) -> WorkItem:
        where = f"records[{n}]"
        if not isinstance(record, dict):
            raise ValidationError(where, f"expected a mapping, got {type(record).__name__}")
        unknown = sorted(set(record) - RECORD_KEYS)
        if unknown:
            raise ValidationError(where, f"unknown keys {unknown}; known: {sorted(RECORD_KEYS)}")
        status = record.get("status", "pending")
        if status not in WORK_STATUSES:
            raise ValidationError(f"{where}.status", f"must be one of {WORK_STATUSES}")
        created = days_ago(now, record.get("days_ago"), f"{where}.days_ago") or now
        started = days_ago(now, record.get("started_days_ago"), f"{where}.started_days_ago")
        completed = days_ago(now, record.get("completed_days_ago"), f"{where}.completed_days_ago")
        updated = max(t for t in (created, started, completed) if t is not None)
        estimate = record.get("estimate_hours")
        return WorkItem(
            id=check_text(f"{where}.id", record.get("id")),
            project_id=self.tracker.project_id,
            agent=record.get("agent"),
            title=record.get("title"),  # type: ignore[arg-type]  # checked by _validate
            description=record.get("description") or "",
            item_type=record.get("item_type") or "task",
            status=status,
            priority=record.get("priority", 50),
            parent_id=record.get("parent_id"),
            blocked_by=list(record.get("blocked_by") or []),
            acceptance_criteria=list(record.get("acceptance_criteria") or []),
            tests=list(record.get("tests") or []),
            tests_passing=record.get("tests_passing"),
            estimate_hours=None if estimate is None else estimate,
            time_spent_hours=record.get("time_spent_hours") or 0.0,
            attempt_count=int(
                check_number(f"{where}.attempt_count", record.get("attempt_count") or 0, low=0)
            ),
            started_at=started,
            completed_at=completed,
            in_progress_since=None,
            created_at=created,
            updated_at=updated,
            metadata=dict(record.get("metadata") or {}),
        )
