"""Work items, the status machine they follow, and the progress summary.

Field names follow the original alma-memory package (`WorkItem`, `ProgressSummary`) so its users'
code keeps working; time is kept in hours (`time_spent_hours`) with `time_spent_ms` as an alias.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alma_app.values import dumps, loads, new_id, parse_time, utcnow

WORK_STATUSES = ("pending", "in_progress", "blocked", "review", "done", "failed")
ITEM_TYPES = ("task", "feature", "bug", "research", "research_question", "chore", "epic")

# Allowed moves and why the others are refused. Moving into in_progress, review or done also
# needs every blocked_by item to be done (checked by the tracker, which can see the board).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("in_progress", "blocked", "done", "failed"),
    "in_progress": ("pending", "blocked", "review", "done", "failed"),
    "blocked": ("pending", "in_progress", "failed"),
    "review": ("in_progress", "done", "failed"),
    "done": ("in_progress",),  # reopen
    "failed": ("pending", "in_progress"),  # retry
}
NEEDS_DEPENDENCIES_DONE = ("in_progress", "review", "done")

# Payload keys (JSON) as opposed to real columns of the work_items table.
PAYLOAD_FIELDS = (
    "description",
    "acceptance_criteria",
    "tests",
    "tests_passing",
    "estimate_hours",
    "time_spent_hours",
    "attempt_count",
    "in_progress_since",
    "metadata",
)


@dataclass(kw_only=True)
class WorkItem:
    """A trackable unit of work: a feature, bug, task or research question."""

    id: str = field(default_factory=new_id)
    project_id: str = ""
    agent: str | None = None
    title: str = ""
    description: str = ""
    item_type: str = "task"
    status: str = "pending"
    priority: int = 50  # 0-100, higher is more important
    parent_id: str | None = None
    blocks: list[str] = field(default_factory=list)  # computed: items that wait on this one
    blocked_by: list[str] = field(default_factory=list)
    acceptance_criteria: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    tests_passing: bool | None = None  # None: not run yet
    estimate_hours: float | None = None
    time_spent_hours: float = 0.0  # accumulated while in_progress
    attempt_count: int = 0  # times the item was moved into in_progress
    started_at: datetime | None = None  # first start
    completed_at: datetime | None = None
    in_progress_since: datetime | None = None  # start of the current in_progress stretch
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def time_spent_ms(self) -> int:  # the original's unit
        return int(self.time_spent_hours * 3_600_000)

    @property
    def remaining_hours(self) -> float | None:
        """Estimate minus time spent (never below zero); None without an estimate."""
        if self.estimate_hours is None:
            return None
        return max(self.estimate_hours - self.time_spent_hours, 0.0)

    def elapsed_hours(self, now: datetime | None = None) -> float:
        """Time spent including the current in_progress stretch."""
        extra = 0.0
        if self.status == "in_progress" and self.in_progress_since is not None:
            extra = max(((now or utcnow()) - self.in_progress_since).total_seconds(), 0) / 3600
        return self.time_spent_hours + extra

    def as_dict(self) -> dict[str, Any]:
        """Plain values (for events, JSON export, MCP)."""
        return loads(dumps(vars(self)))


def to_row(item: WorkItem) -> dict[str, Any]:
    payload = {name: getattr(item, name) for name in PAYLOAD_FIELDS}
    return {
        "id": item.id,
        "project_id": item.project_id,
        "agent": item.agent,
        "title": item.title,
        "item_type": item.item_type,
        "status": item.status,
        "priority": item.priority,
        "parent_id": item.parent_id,
        "blocked_by": list(item.blocked_by),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "started_at": item.started_at,
        "completed_at": item.completed_at,
        "payload": dumps(payload),
    }


def from_row(row: dict[str, Any], blocks: list[str] | None = None) -> WorkItem:
    payload = loads(row.get("payload"))
    estimate = payload.get("estimate_hours")
    return WorkItem(
        id=row["id"],
        project_id=row["project_id"],
        agent=row.get("agent"),
        title=row["title"],
        description=payload.get("description") or "",
        item_type=row.get("item_type") or "task",
        status=row["status"],
        priority=int(row["priority"]),
        parent_id=row.get("parent_id"),
        blocks=list(blocks or []),
        blocked_by=list(row.get("blocked_by") or []),
        acceptance_criteria=list(payload.get("acceptance_criteria") or []),
        tests=list(payload.get("tests") or []),
        tests_passing=payload.get("tests_passing"),
        estimate_hours=None if estimate is None else float(estimate),
        time_spent_hours=float(payload.get("time_spent_hours") or 0.0),
        attempt_count=int(payload.get("attempt_count") or 0),
        started_at=parse_time(row.get("started_at")),
        completed_at=parse_time(row.get("completed_at")),
        in_progress_since=parse_time(payload.get("in_progress_since")),
        created_at=parse_time(row["created_at"]) or utcnow(),
        updated_at=parse_time(row["updated_at"]) or utcnow(),
        metadata=dict(payload.get("metadata") or {}),
    )


@dataclass(frozen=True)
class StatusChange:
    """One entry of the status-change log (read back from the events table)."""

    item_id: str
    title: str
    from_status: str | None
    to_status: str
    at: datetime
    actor: str
    reason: str | None


@dataclass
class ProgressSummary:
    """Where a project (or one agent's share of it) stands."""

    project_id: str
    agent: str | None
    total: int
    pending: int
    in_progress: int
    blocked: int
    review: int
    done: int
    failed: int
    success_rate: float | None  # done / (done + failed); None before anything finished
    current_item: WorkItem | None  # the in_progress item started most recently
    next_suggested: WorkItem | None  # get_next_item(strategy="priority")
    blockers: list[WorkItem]  # items in status blocked
    time_spent_hours: float
    last_activity: datetime | None
    generated_at: datetime = field(default_factory=utcnow)

    @property
    def by_status(self) -> dict[str, int]:
        return {s: getattr(self, s) for s in WORK_STATUSES}

    @property
    def completion_rate(self) -> float:
        """Done over total, 0-1 (0 for an empty board)."""
        return self.done / self.total if self.total else 0.0

    @property
    def completion_percentage(self) -> float:
        return round(self.completion_rate * 100, 1)

    @property
    def total_time_ms(self) -> int:  # the original's unit
        return int(self.time_spent_hours * 3_600_000)

    def format_summary(self) -> str:
        """A few human-readable lines (CLI, quick reload)."""
        lines = [f"Progress: {self.done}/{self.total} done ({self.completion_percentage}%)"]
        lines.append(
            f"  in progress {self.in_progress}, review {self.review}, pending {self.pending}, "
            f"blocked {self.blocked}, failed {self.failed}"
        )
        if self.current_item:
            lines.append(f"  Current: {self.current_item.title}")
        if self.next_suggested:
            lines.append(f"  Next: {self.next_suggested.title}")
        if self.blockers:
            lines.append(f"  Blocked: {', '.join(b.title for b in self.blockers)}")
        return "\n".join(lines)
