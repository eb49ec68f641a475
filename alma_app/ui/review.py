"""The review card: a pending memory beside its nearest neighbours, with approve / edit / reject;
and the pairs of memories a write flagged as possible contradictions."""

from __future__ import annotations

import streamlit as st

from alma_app.api import ALMA
from alma_app.errors import AlmaError
from alma_app.memory.writes import Contradiction
from alma_app.types import Memory
from alma_app.ui.detail import LONG_TEXT, changed_fields, field_inputs
from alma_app.ui.state import flash, run_action, show_error
from alma_app.ui.widgets import STATUS_ICONS, TYPE_ICONS, badges, type_label

SKIPPED_KEY = "review:skipped"  # ids passed over in this session, shown again on "start over"
NEIGHBOURS = 5
DUPLICATE = 0.9  # cosine similarity from which a neighbour is flagged as a likely duplicate
RELATED = 0.6  # ... and from which an opposite-kind neighbour may contradict the memory
OPPOSITES = {("heuristic", "anti_pattern"), ("anti_pattern", "heuristic")}
REVIEWED_FIELDS = LONG_TEXT | {"confidence", "task_type", "domain", "category"}


def next_pending(alma: ALMA, agent: str | None) -> tuple[Memory | None, int]:
    """The oldest pending memory not skipped in this session, and how many are pending."""
    skipped = st.session_state.setdefault(SKIPPED_KEY, [])
    page = alma.list_memories(
        status="pending",
        agent=agent,
        limit=min(len(skipped) + 1, 10_000),
        order_by="created_at",
        descending=False,
    )
    memory = next((m for m in page.items if m.id not in skipped), None)
    return memory, page.total


def review_card(alma: ALMA, memory: Memory, reviewer: str) -> None:
    """Decide on one memory. Enter approves (with any edits); a reason is needed to reject."""
    left, right = st.columns([3, 2], gap="large")
    with left, st.container(border=True):
        with st.container(horizontal=True):
            badges(memory)
            st.badge(f"confidence {memory.stored_confidence:.2f}", color="blue")
        st.markdown(f"#### {memory.summary()}")
        st.caption(f"Created {memory.created_at:%Y-%m-%d %H:%M} UTC · `{memory.id}`")
        key = f"review:{memory.id}"
        # Two forms, because Enter submits a form through its first button: Enter in a field
        # approves (with the edits), Enter in the reason rejects.
        with st.form(key, border=False):
            values = field_inputs(memory, key, REVIEWED_FIELDS)
            with st.container(horizontal=True):
                approved = st.form_submit_button(
                    "Approve", type="primary", icon=":material/check:", shortcut="Ctrl+Enter"
                )
                skipped = st.form_submit_button(
                    "Skip", icon=":material/skip_next:", shortcut="Ctrl+Shift+S"
                )
        with (
            st.form(f"{key}:reject", border=False),
            st.container(horizontal=True, vertical_alignment="bottom"),
        ):
            reason = st.text_input(
                "Reason to reject", key=f"{key}:reason", placeholder="why not? Enter rejects"
            )
            rejected = st.form_submit_button(
                "Reject", icon=":material/close:", shortcut="Ctrl+Shift+X"
            )
        st.caption(
            ":material/keyboard: Enter or Ctrl+Enter approves · Enter in the reason or "
            "Ctrl+Shift+X rejects · Ctrl+Shift+S skips"
        )
    with right:
        neighbours(alma, memory)
    if approved or rejected or skipped:
        _decide(alma, memory, reviewer, values, reason, approved=approved, rejected=rejected)


def _decide(
    alma: ALMA,
    memory: Memory,
    reviewer: str,
    values: dict,
    reason: str,
    *,
    approved: bool,
    rejected: bool,
) -> None:
    with show_error():
        if approved:
            changes = changed_fields(memory, values)
            if changes:
                alma.edit_and_approve(memory.id, reviewer, **changes)
                flash(f"Edited ({', '.join(sorted(changes))}) and approved.")
            else:
                alma.approve([memory.id], reviewer=reviewer)
                flash("Approved.")
        elif rejected:
            alma.reject([memory.id], reviewer=reviewer, reason=reason)
            flash(f"Rejected: {reason}")
        else:
            st.session_state[SKIPPED_KEY].append(memory.id)
        st.rerun()


def neighbours(alma: ALMA, memory: Memory) -> None:
    """The closest memories already stored: possible duplicates or contradictions."""
    st.markdown("**Closest existing memories**")
    try:
        hits = alma.search(memory.text(), agent=memory.agent, limit=3 * NEIGHBOURS)
    except AlmaError as exc:
        st.error(str(exc))
        return
    # Hybrid search finds candidates by meaning and by words; the closest by meaning come first.
    hits = sorted(
        (h for h in hits if h.id != memory.id),
        key=lambda h: h.score.similarity if h.score else 0.0,
        reverse=True,
    )[:NEIGHBOURS]
    if not hits:
        st.caption("Nothing similar is stored: this would be new knowledge.")
        return
    for hit in hits:
        similarity = hit.score.similarity if hit.score else 0.0
        with st.container(border=True):
            flags = [
                f"{TYPE_ICONS.get(hit.TYPE, '')} {type_label(hit.TYPE)}",
                f"{STATUS_ICONS.get(hit.status, '')} {hit.status}",
            ]
            if similarity >= DUPLICATE and hit.TYPE == memory.TYPE:
                flags.append(":orange-badge[:material/content_copy: likely duplicate]")
            elif similarity >= RELATED and (memory.TYPE, hit.TYPE) in OPPOSITES:
                flags.append(":red-badge[:material/bolt: may contradict]")
            st.markdown(" · ".join(flags))
            st.markdown(hit.summary())
            st.progress(max(0.0, min(1.0, similarity)), text=f"similarity {similarity:.2f}")


def contradictions(alma: ALMA, agent: str | None, reviewer: str) -> None:
    """Pairs a write flagged as possibly contradicting each other: keep both or reject one."""
    try:
        pairs = alma.contradictions(agent=agent)
    except AlmaError as exc:
        st.error(str(exc))
        return
    if not pairs:
        return
    st.subheader("Possible contradictions", anchor=False, divider="gray")
    st.caption(
        f"**{len(pairs)}** pair(s) where a newer statement negates an older one. Both are stored "
        "and retrieved until you decide."
    )
    for pair in pairs:
        key = f"contradiction:{pair.first.id}:{pair.second.id}"
        with st.container(border=True):
            older, newer = st.columns(2)
            for column, memory, when in (
                (older, pair.first, "Older"),
                (newer, pair.second, "Newer"),
            ):
                with column:
                    st.markdown(f"**{when}:** {memory.summary()}")
                    st.caption(f"{memory.created_at:%Y-%m-%d %H:%M} UTC · `{memory.id}`")
            with st.container(horizontal=True):
                for label, icon, rejected in (
                    ("Keep both", ":material/done_all:", None),
                    ("Keep the newer", ":material/update:", pair.first.id),
                    ("Keep the older", ":material/history:", pair.second.id),
                ):
                    st.button(
                        label,
                        icon=icon,
                        key=f"{key}:{label}",
                        on_click=run_action,
                        args=(lambda r=rejected, p=pair: _resolve(alma, p, reviewer, r),),
                    )


def _resolve(alma: ALMA, pair: Contradiction, reviewer: str, rejected: str | None) -> str:
    alma.resolve_contradiction(pair.first.id, pair.second.id, reviewer, reject=rejected)
    return "Kept both." if rejected is None else f"Rejected `{rejected}`."
