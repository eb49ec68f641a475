"""Kanban widgets for the Work items page: the board, a card with its moves, the item form.

Moves run in button callbacks, before the page script, so the board drawn afterwards already
shows the new state; the outcome (or the InvalidTransition explaining why a move is refused) is
flashed (alma_app.ui.state) and shown once at the top of the page by `show_flash`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import streamlit as st

from alma_app.board.types import ITEM_TYPES, TRANSITIONS, WORK_STATUSES
from alma_app.errors import AlmaError
from alma_app.progress import ProgressTracker, WorkItem
from alma_app.ui.state import flash

if TYPE_CHECKING:
    from alma_app.api import ALMA

STATUS_TITLES = {
    "pending": ":material/schedule: Pending",
    "in_progress": ":material/construction: In progress",
    "blocked": ":material/block: Blocked",
    "review": ":material/visibility: Review",
    "done": ":material/check_circle: Done",
    "failed": ":material/cancel: Failed",
}
UNASSIGNED = "(unassigned)"
DONE_SHOWN = 5  # the done column shows the latest few unless asked for all


def tracker_for(alma: ALMA) -> ProgressTracker:
    """The project's board."""
    return alma.progress


def _move(tracker: ProgressTracker, item: WorkItem, status: str, actor: str) -> None:
    try:
        tracker.update_status(item.id, status, actor=actor)
    except AlmaError as exc:
        flash(f"Cannot move “{item.title}” to {status.replace('_', ' ')}: {exc}", "error")
    else:
        flash(f"Moved “{item.title}” to {STATUS_TITLES[status]}.")


def card(tracker: ProgressTracker, item: WorkItem, board: dict[str, WorkItem], actor: str) -> None:
    """One card: title, agent, priority, what it waits on and blocks, and its moves (recorded
    as made by `actor`)."""
    with st.container(border=True, key=f"card-{item.id}"):
        st.markdown(f"**{item.title}**")
        st.caption(
            f":material/person: {item.agent or 'unassigned'} · :material/flag: P{item.priority} · "
            f"{item.item_type}"
        )
        waiting = [board[d] for d in item.blocked_by if d in board and board[d].status != "done"]
        if waiting:
            names = ", ".join(f"“{w.title}” ({w.status.replace('_', ' ')})" for w in waiting)
            st.markdown(f":red[:material/block: waits on {names}]")
        if item.blocks:
            st.caption(f":material/link: blocks {len(item.blocks)} item(s)")
        with st.popover("Move", use_container_width=True):
            allowed = TRANSITIONS[item.status]
            for status in WORK_STATUSES:
                if status == item.status:
                    continue
                st.button(
                    STATUS_TITLES[status],
                    key=f"move-{item.id}-{status}",
                    type="primary" if status in allowed else "secondary",
                    help=None if status in allowed else f"not allowed from {item.status}",
                    on_click=_move,
                    args=(tracker, item, status, actor),
                    use_container_width=True,
                )


def board_view(
    tracker: ProgressTracker, items: Sequence[WorkItem], everything: list[WorkItem], actor: str
) -> None:
    """One column per status, highest priority on top; only the latest done items unless the
    user asks for all of them. Moves are recorded as made by `actor`."""
    board = {i.id: i for i in everything}
    show_all_done = st.toggle("Show every done item", key="kanban.all_done")
    columns = st.columns(len(WORK_STATUSES), gap="small")
    for column, status in zip(columns, WORK_STATUSES, strict=True):
        here = sorted(
            (i for i in items if i.status == status), key=lambda i: (-i.priority, i.created_at)
        )
        hidden = 0
        if status == "done" and not show_all_done and len(here) > DONE_SHOWN:
            here = sorted(here, key=lambda i: i.completed_at or i.updated_at, reverse=True)
            hidden, here = len(here) - DONE_SHOWN, here[:DONE_SHOWN]
        with column:
            st.markdown(f"**{STATUS_TITLES[status]}** · {len(here) + hidden}")
            if not here:
                st.caption("Nothing here.")
            for item in here:
                card(tracker, item, board, actor)
            if hidden:
                st.caption(f"…and {hidden} older done item(s)")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def item_form(
    tracker: ProgressTracker,
    everything: list[WorkItem],
    agents: Sequence[str],
    item: WorkItem | None = None,
    *,
    actor: str,
) -> None:
    """Create an item (item=None) or edit one, dependencies included; `actor` is recorded as
    the one who made the change."""
    key = f"item-form-{item.id if item else 'new'}"
    others = [i for i in everything if item is None or i.id != item.id]
    titles = {i.id: f"{i.title} ({i.status.replace('_', ' ')})" for i in others}
    agent_choices = [UNASSIGNED, *agents]
    if item is not None and item.agent and item.agent not in agent_choices:
        agent_choices.append(item.agent)
    types = list(ITEM_TYPES)
    if item is not None and item.item_type not in types:
        types.append(item.item_type)
    with st.form(key, clear_on_submit=item is None):
        title = st.text_input("Title", value=item.title if item else "", key=f"{key}-title")
        description = st.text_area(
            "Description", value=item.description if item else "", key=f"{key}-description"
        )
        left, middle, right = st.columns(3)
        agent = left.selectbox(
            "Agent",
            agent_choices,
            index=agent_choices.index(item.agent) if item and item.agent else 0,
            key=f"{key}-agent",
        )
        item_type = middle.selectbox(
            "Type", types, index=types.index(item.item_type) if item else 0, key=f"{key}-type"
        )
        priority = right.slider(
            "Priority", 0, 100, value=item.priority if item else 50, key=f"{key}-priority"
        )
        blocked_by = st.multiselect(
            "Blocked by (waits on these items)",
            list(titles),
            default=[d for d in (item.blocked_by if item else []) if d in titles],
            format_func=titles.get,
            key=f"{key}-blocked-by",
        )
        criteria = st.text_area(
            "Acceptance criteria (one per line)",
            value="\n".join(item.acceptance_criteria) if item else "",
            key=f"{key}-criteria",
        )
        estimate = st.number_input(
            "Estimate (hours, 0 = none)",
            min_value=0.0,
            value=float(item.estimate_hours or 0.0) if item else 0.0,
            step=0.5,
            key=f"{key}-estimate",
        )
        submitted = st.form_submit_button(
            "Save changes" if item else "Create item", type="primary", key=f"{key}-submit"
        )
    if not submitted:
        return
    fields: dict[str, Any] = {
        "title": title,
        "description": description,
        "agent": None if agent == UNASSIGNED else agent,
        "item_type": item_type,
        "priority": priority,
        "blocked_by": blocked_by,
        "acceptance_criteria": _lines(criteria),
        "estimate_hours": estimate or None,
    }
    try:
        if item is None:
            created = tracker.create_work_item(**fields, actor=actor)
            flash(f"Created “{created.title}” ({STATUS_TITLES[created.status]}).")
        else:
            tracker.update(item.id, actor=actor, **fields)
            flash(f"Saved “{title}”.")
    except AlmaError as exc:
        st.error(str(exc), icon=":material/block:")
        return
    st.rerun()
