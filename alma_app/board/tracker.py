"""ProgressTracker: the project's work items, kept in the store so every process sees one board.

    tracker = ProgressTracker("my-project")            # opens .alma/config.yaml
    tracker = ProgressTracker(alma.project_id, alma=alma)
    tracker = tracker_in(context, "my-project")            # in a context already open
    item = tracker.create_work_item("Fix login bug", priority=80, agent="victor")
    tracker.update_status(item.id, "in_progress")
    tracker.get_next_item(strategy="unblock_others")

Every change is appended to the `events` table (entity "work_item") with before/after values;
`get_status_log()` reads the status changes back. Errors: ValidationError for bad arguments,
NotFoundError for an unknown id, InvalidTransition for a status move that is not allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import alma_store as st
from alma_app.board.importing import ItemImporter
from alma_app.board.rules import (
    apply_transition,
    check_status,
    check_transition,
    copy_item,
    detach,
    freed_by,
    validate_item,
)
from alma_app.board.strategies import STRATEGIES, actionable, choose
from alma_app.board.types import (
    WORK_STATUSES,
    ProgressSummary,
    StatusChange,
    WorkItem,
    from_row,
    to_row,
)
from alma_app.checks import check_limit, check_number, check_text, check_text_list
from alma_app.context import CoreContext
from alma_app.errors import NotFoundError, ValidationError, store_errors
from alma_app.events import HUMAN, EventEntry
from alma_app.values import loads, parse_time, utcnow

if TYPE_CHECKING:  # the signature names the facade, as the original's does; nothing imports it
    from alma_app.api import ALMA

__all__ = ["STRATEGIES", "ProgressSummary", "ProgressTracker", "StatusChange", "WorkItem"]

ENTITY = "work_item"
_STRATEGY_ALIASES = {"quick_win": "quick_wins", "blocked_unblock": "unblock_others"}
EDITABLE = (
    "title",
    "description",
    "item_type",
    "priority",
    "agent",
    "parent_id",
    "blocked_by",
    "acceptance_criteria",
    "tests",
    "tests_passing",
    "estimate_hours",
    "time_spent_hours",
    "metadata",
)


class ProgressTracker:
    """Work items of one project, persisted in the ALMA store (tables work_items and events).

    Given an ALMA handle (or its context), it works in that store; given neither, it opens the
    one .alma/config.yaml names (CoreContext.from_config), as the original's tracker did.
    """

    def __init__(self, project_id: str, alma: ALMA | None = None) -> None:
        context = alma.context if alma is not None else CoreContext.from_config()
        self._attach(project_id, context, alma)

    def _attach(self, project_id: str, context: CoreContext, alma: ALMA | None) -> None:
        self.project_id = check_text("project_id", project_id)
        self.alma = alma
        self.context = context
        self.store = context.store
        self.events = context.events.for_project(project_id)
        self.importer = ItemImporter(self)

    # ------------------------------------------------------------------ reading

    def _scope(self, *parts: st.Filter | None) -> st.Filter:
        return st.all_of(st.Eq("project_id", self.project_id), *parts)  # type: ignore[return-value]

    def _rows(self, where: st.Filter | None = None) -> list[dict[str, Any]]:
        with store_errors():
            return self.store.scan("work_items", self._scope(where))

    def board(self) -> list[WorkItem]:
        """Every item of the project, each with `blocks` filled in."""
        rows = self._rows()
        blocks: dict[str, list[str]] = {}
        for row in rows:
            for dep in row.get("blocked_by") or ():
                blocks.setdefault(dep, []).append(row["id"])
        return [from_row(r, sorted(blocks.get(r["id"], []))) for r in rows]

    def get(self, item_id: str) -> WorkItem:
        """One item; raises NotFoundError."""
        check_text("item_id", item_id)
        with store_errors():
            rows = [r for r in self.store.get("work_items", [item_id])]
            rows = [r for r in rows if r["project_id"] == self.project_id]
            if not rows:
                raise NotFoundError("work item", item_id)
            dependents = self.store.scan(
                "work_items",
                self._scope(st.HasAny("blocked_by", (item_id,))),
                columns=["id"],
            )
        return from_row(rows[0], sorted(r["id"] for r in dependents))

    get_item = get

    def get_work_item(self, item_id: str) -> WorkItem | None:
        """The original's lookup: None instead of an error when the id is unknown."""
        try:
            return self.get(item_id)
        except NotFoundError:
            return None

    def list_items(
        self,
        *,
        agent: str | None = None,
        status: str | Sequence[str] | None = None,
        item_type: str | None = None,
        parent_id: str | None = None,
        min_priority: int | None = None,
        text: str | None = None,
    ) -> list[WorkItem]:
        """Items matching every given filter, highest priority first, then oldest."""
        parts: list[st.Filter | None] = []
        if agent is not None:
            parts.append(st.Eq("agent", check_text("agent", agent)))
        if status is not None:
            statuses = (status,) if isinstance(status, str) else tuple(status)
            for s in statuses:
                check_status(s)
            parts.append(st.In("status", statuses))
        if item_type is not None:
            parts.append(st.Eq("item_type", check_text("item_type", item_type)))
        if parent_id is not None:
            parts.append(st.Eq("parent_id", check_text("parent_id", parent_id)))
        if min_priority is not None:
            parts.append(st.Range("priority", int(check_number("min_priority", min_priority))))
        if text:
            parts.append(st.TextContains("title", check_text("text", text)))
        wanted = {r["id"] for r in self._rows(st.all_of(*parts))}
        items = [i for i in self.board() if i.id in wanted]
        return sorted(items, key=lambda i: (-i.priority, i.created_at, i.id))

    def get_items(
        self, status: str | None = None, agent: str | None = None, **filters: Any
    ) -> list[WorkItem]:
        """The original's name for list_items."""
        return self.list_items(status=status, agent=agent, **filters)

    # ------------------------------------------------------------------ writing

    def _save(self, items: Sequence[WorkItem], events: Sequence[EventEntry]) -> None:
        """Write items (already validated) and their events: the work_items table's one door."""
        with store_errors():
            self.store.upsert("work_items", [to_row(i) for i in items])
        self.events.append(ENTITY, events)

    def create_from_list(
        self,
        items: str | Sequence[dict[str, Any]],
        agent: str | None = None,
        item_type: str = "task",
        priority: int = 50,
    ) -> list[WorkItem]:
        """One item per line of a Markdown list (see ItemImporter.from_markdown), in one commit;
        the original's list of dicts (create_work_item arguments) is accepted too."""
        if not isinstance(items, str):
            return [self.create_work_item(**{"agent": agent, **dict(d)}) for d in items]
        created, events = self.importer.from_markdown(items, agent, item_type, priority)
        self._save(created, events)
        return created

    def expand_to_items(
        self, text: str, item_type: str = "task", agent: str | None = None
    ) -> list[WorkItem]:
        """The original's name for creating items from a Markdown list."""
        return self.create_from_list(text, agent=agent, item_type=item_type)

    def import_items(self, records: Sequence[dict[str, Any]], *, actor: str = HUMAN) -> int:
        """Load work item records keeping their ids (see ItemImporter.from_records); all are
        checked before anything is written. Returns how many were stored."""
        items, events = self.importer.from_records(records, actor)
        self._save(items, events)
        return len(items)

    def create_work_item(
        self,
        title: str,
        description: str = "",
        priority: int = 50,
        agent: str | None = None,
        item_type: str = "task",
        parent_id: str | None = None,
        blocked_by: Sequence[str] = (),
        acceptance_criteria: Sequence[str] = (),
        *,
        tests: Sequence[str] = (),
        estimate_hours: float | None = None,
        metadata: dict[str, Any] | None = None,
        status: str | None = None,
        actor: str | None = None,
    ) -> WorkItem:
        """A new item; it starts `blocked` when it waits on unfinished items, else `pending`."""
        board = {i.id: i for i in self.board()}
        item = WorkItem(
            project_id=self.project_id,
            agent=agent,
            title=title,
            description=description,
            item_type=item_type,
            priority=priority,
            parent_id=parent_id,
            blocked_by=check_text_list("blocked_by", blocked_by),
            acceptance_criteria=check_text_list("acceptance_criteria", acceptance_criteria),
            tests=check_text_list("tests", tests),
            estimate_hours=estimate_hours,
            metadata=dict(metadata or {}),
        )
        validate_item(item, board)
        if status is None:
            waiting = any(board[d].status != "done" for d in item.blocked_by)
            status = "blocked" if waiting else "pending"
        item.status = check_status(status)
        self._save(
            [item], [(item.id, "create", actor or agent or HUMAN, None, item.as_dict(), None)]
        )
        return item

    def update(
        self, item_id: str, *, actor: str | None = None, reason: str | None = None, **changes: Any
    ) -> WorkItem:
        """Change fields other than status (use update_status for that); logged as an edit."""
        before = self.get(item_id)
        board = {i.id: i for i in self.board()}
        item = copy_item(before)
        for name, value in changes.items():
            if name == "status":
                raise ValidationError("status", "use update_status() to change the status")
            if name not in EDITABLE:
                raise ValidationError(name, f"is not an editable field; editable: {EDITABLE}")
            setattr(item, name, list(value) if isinstance(value, tuple) else value)
        validate_item(item, board)
        item.updated_at = utcnow()
        event = (item.id, "edit", actor or HUMAN, before.as_dict(), item.as_dict(), reason)
        self._save([item], [event])
        return item

    update_work_item = update

    def update_status(
        self,
        item_id: str,
        status: str,
        *,
        actor: str | None = None,
        reason: str | None = None,
        tests_passing: bool | None = None,
    ) -> WorkItem:
        """Move an item to a new status, keeping its timings; finishing it unblocks dependents.

        Raises InvalidTransition when the move is not in TRANSITIONS or when the item would
        start or finish while an item it waits on is not done (the error names that item).
        """
        before = self.get(item_id)
        board = {i.id: i for i in self.board()}
        check_transition(before, status, board)
        now = utcnow()
        item = apply_transition(before, status, now, tests_passing)
        who = actor or item.agent or HUMAN
        changed = [item]
        events = [(item.id, "status", who, before.as_dict(), item.as_dict(), reason)]
        if status == "done":
            board[item.id] = item
            for old, new in freed_by(item.id, board, now):
                changed.append(new)
                why = f"unblocked: {item.id} is done"
                events.append((new.id, "status", who, old.as_dict(), new.as_dict(), why))
        self._save(changed, events)
        return item

    def start_item(self, item_id: str) -> WorkItem:
        return self.update_status(item_id, "in_progress")

    def complete_item(self, item_id: str, tests_passing: bool = True) -> WorkItem:
        return self.update_status(item_id, "done", tests_passing=tests_passing)

    def delete(self, item_id: str, *, actor: str | None = None, reason: str | None = None) -> None:
        """Remove an item; its children lose their parent and dependents stop waiting on it."""
        item = self.get(item_id)
        who = actor or HUMAN
        changed = detach(item_id, {i.id: i for i in self.board()}, utcnow())
        why = f"{item_id} was deleted"
        events = [(new.id, "edit", who, old.as_dict(), new.as_dict(), why) for old, new in changed]
        self._save([new for _, new in changed], events)  # first, so nothing points at a gap
        with store_errors():
            self.store.delete("work_items", [item_id])
        self.events.append(ENTITY, [(item_id, "delete", who, item.as_dict(), None, reason)])

    delete_work_item = delete

    # ------------------------------------------------------------------ planning

    def get_actionable_items(self, agent: str | None = None) -> list[WorkItem]:
        """Pending items whose dependencies are all done (for an agent: its own and unassigned)."""
        return actionable(self.board(), agent)

    def get_next_item(
        self, agent: str | None = None, strategy: str = "priority"
    ) -> WorkItem | None:
        """The actionable item to do next by a strategy (see alma_app.board.strategies)."""
        strategy = _STRATEGY_ALIASES.get(strategy, strategy)
        if strategy not in STRATEGIES:
            raise ValidationError("strategy", f"must be one of {STRATEGIES}, got {strategy!r}")
        if agent is not None:
            check_text("agent", agent)
        board = self.board()
        return choose(strategy, actionable(board, agent), board)

    def get_progress_summary(self, agent: str | None = None) -> ProgressSummary:
        """Counts per status, completion, success rate, current/next item, blockers, time.

        With an agent, counts cover the items assigned to it; the suggested next item may also
        be an unassigned one (see get_next_item). Time spent includes running in_progress time.
        """
        if agent is not None:
            check_text("agent", agent)
        items = [i for i in self.board() if agent is None or i.agent == agent]
        counts = {s: sum(1 for i in items if i.status == s) for s in WORK_STATUSES}
        finished = counts["done"] + counts["failed"]
        now = utcnow()
        started = [i for i in items if i.status == "in_progress"]
        current = max(started, key=lambda i: i.in_progress_since or i.updated_at, default=None)
        return ProgressSummary(
            project_id=self.project_id,
            agent=agent,
            total=len(items),
            **counts,
            success_rate=counts["done"] / finished if finished else None,
            current_item=current,
            next_suggested=self.get_next_item(agent=agent),
            blockers=sorted(
                (i for i in items if i.status == "blocked"), key=lambda i: (-i.priority, i.id)
            ),
            time_spent_hours=round(sum(i.elapsed_hours(now) for i in items), 3),
            last_activity=max((i.updated_at for i in items), default=None),
        )

    def get_status_log(
        self, item_id: str | None = None, *, agent: str | None = None, limit: int = 100
    ) -> list[StatusChange]:
        """Status changes (and creations), newest first, from the events table."""
        check_limit("limit", limit, 1, 10_000)
        rows = self.events.changes(
            ENTITY,
            ("create", "status", "import"),
            entity_id=None if item_id is None else check_text("item_id", item_id),
            agent=None if agent is None else check_text("agent", agent),
            limit=limit,
        )
        log = []
        for row in rows:
            before, after = loads(row["before"]), loads(row["after"])
            log.append(
                StatusChange(
                    item_id=row["entity_id"],
                    title=str(after.get("title", "")),
                    from_status=before.get("status"),
                    to_status=str(after.get("status", "")),
                    at=parse_time(row["at"]),  # type: ignore[arg-type]
                    actor=row["actor"],
                    reason=row["reason"],
                )
            )
        return log


def tracker_in(context: CoreContext, project_id: str) -> ProgressTracker:
    """A tracker working in a context that is already open (a SessionManager's), without
    reading the config again; the public constructor keeps the original's signature."""
    tracker = ProgressTracker.__new__(ProgressTracker)
    tracker._attach(project_id, context, None)
    return tracker
