"""Which work item to do next: pure functions over the board, one per strategy.

An item is *actionable* when it is `pending` and every item in its `blocked_by` is `done`.
In-progress items are someone's current work, not a suggestion; blocked, review, done and
failed items are not suggested either. Each strategy breaks ties by priority (higher first),
then age (older first), then id, so the choice is deterministic.

- priority: the highest priority.
- quick_wins: the least remaining work, estimate_hours minus time_spent_hours; items without an
  estimate come after every estimated item.
- unblock_others: the item that the most unfinished items wait on, directly or transitively
  (A blocks B, B blocks C: finishing A counts for both B and C).
- fifo: the oldest item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from alma_app.board.types import WorkItem

STRATEGIES = ("priority", "quick_wins", "unblock_others", "fifo")


def is_actionable(item: WorkItem, status_of: Mapping[str, str]) -> bool:
    """Pending, with every dependency done (a missing dependency counts as not done)."""
    return item.status == "pending" and all(status_of.get(d) == "done" for d in item.blocked_by)


def waiting_on(items: Iterable[WorkItem]) -> dict[str, set[str]]:
    """For each item id, the unfinished items that wait on it directly or transitively."""
    dependents: dict[str, set[str]] = {}
    unfinished = [i for i in items if i.status != "done"]
    for item in unfinished:
        for dep in item.blocked_by:
            dependents.setdefault(dep, set()).add(item.id)
    closure: dict[str, set[str]] = {}

    def visit(item_id: str, path: frozenset[str]) -> set[str]:
        if item_id in closure:
            return closure[item_id]
        found: set[str] = set()
        for child in dependents.get(item_id, ()):
            if child in path:  # a dependency cycle: count each item once, stop there
                continue
            found.add(child)
            found |= visit(child, path | {child})
        closure[item_id] = found
        return found

    return {item_id: visit(item_id, frozenset({item_id})) for item_id in dependents}


def _tie_break(item: WorkItem) -> tuple[int, datetime, str]:
    return (-item.priority, item.created_at, item.id)


def choose(strategy: str, candidates: list[WorkItem], board: list[WorkItem]) -> WorkItem | None:
    """The candidate the strategy picks (None when there is none); board is every item."""
    if not candidates:
        return None
    key: Callable[[WorkItem], tuple]
    if strategy == "priority":
        key = _tie_break
    elif strategy == "fifo":

        def key(i: WorkItem) -> tuple:
            return (i.created_at, -i.priority, i.id)

    elif strategy == "quick_wins":

        def key(i: WorkItem) -> tuple:
            remaining = i.remaining_hours
            return (remaining is None, remaining or 0.0, *_tie_break(i))

    elif strategy == "unblock_others":
        waits = waiting_on(board)

        def key(i: WorkItem) -> tuple:
            return (-len(waits.get(i.id, ())), *_tie_break(i))

    else:
        raise ValueError(strategy)
    return min(candidates, key=key)


def actionable(board: Sequence[WorkItem], agent: str | None = None) -> list[WorkItem]:
    """Pending items whose dependencies are all done (for an agent: its own and unassigned)."""
    status_of = {i.id: i.status for i in board}
    return [
        i
        for i in board
        if is_actionable(i, status_of) and (agent is None or i.agent in (agent, None))
    ]
