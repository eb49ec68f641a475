"""One memory in full: its fields, an edit form, where it came from, and its version history.

The edit forms live here for every page: the full one of the detail view and the short one
(main field and confidence) that the Confidence page offers beside each expiring memory."""

from __future__ import annotations

import difflib
import json
from dataclasses import fields
from typing import Any

import streamlit as st

from alma_app.api import ALMA
from alma_app.errors import AlmaError, MemoryNotFound, ValidationError
from alma_app.memory import links as link_keys
from alma_app.memory.records import to_plain
from alma_app.memory.review import HistoryEvent
from alma_app.types import Memory
from alma_app.ui.state import flash, run_action, show_error
from alma_app.ui.widgets import badges, delete_memories

# Fields a human may not edit here: identity, ownership, status (approve/reject do that),
# timestamps (the decay clock restarts through validation) and provenance links.
FIXED = {
    "id",
    "agent",
    "user_id",
    "project_id",
    "status",
    "created_at",
    "updated_at",
    "timestamp",
    "last_validated",
    "last_verified",
    "last_seen",
    "source_outcome_ids",
    "session_id",
    "effective_confidence",
    "score",
}
LONG_TEXT = {
    "condition",
    "strategy",
    "fact",
    "preference",
    "pattern",
    "why_bad",
    "better_alternative",
    "task",
    "strategy_used",
    "feedback",
    "error_message",
}
# The field a reviewer edits for each memory type in the short form (besides the confidence).
MAIN_FIELD = {
    "heuristic": "strategy",
    "anti_pattern": "better_alternative",
    "outcome": "strategy_used",
    "preference": "preference",
    "domain_knowledge": "fact",
}


def memory_detail(alma: ALMA, memory_id: str, reviewer: str) -> None:
    """The detail view of one memory, in tabs."""
    try:
        memory = alma.get_memory(memory_id)
    except MemoryNotFound:
        st.info(
            "This memory is not in the store any more (deleted or forgotten).",
            icon=":material/inventory_2:",
        )
        return
    except AlmaError as exc:
        st.error(str(exc))
        return
    with st.container(border=True):
        st.markdown(f"#### {memory.summary()}")
        with st.container(horizontal=True):
            badges(memory)
        _facts(memory)
        links(alma, memory)
        _quick_actions(alma, memory, reviewer)
        fields_tab, edit_tab, source_tab, history_tab = st.tabs(
            ["Fields", "Edit", "Provenance", "History"]
        )
        with fields_tab:
            st.json(to_plain(memory), expanded=True)
        with edit_tab:
            edit_form(alma, memory, reviewer)
        with source_tab:
            provenance(alma, memory)
        with history_tab:
            history(alma, memory, reviewer)


def _facts(memory: Memory) -> None:
    effective, stored, created, updated = st.columns(4)
    effective.metric("Effective confidence", f"{memory.effective_confidence or 0:.2f}")
    stored.metric("Stored confidence", f"{memory.stored_confidence:.2f}")
    created.metric("Created", f"{memory.created_at:%Y-%m-%d}")
    updated.metric("Updated", f"{memory.updated_at:%Y-%m-%d %H:%M}")


LINKS = (
    ("Supersedes", ":material/history:", link_keys.supersedes),
    ("Superseded by", ":material/update:", link_keys.superseded_by),
    ("May contradict", ":material/bolt:", link_keys.contradicts),
    ("Reviewed against", ":material/task_alt:", link_keys.reviewed_contradictions),
)


def links(alma: ALMA, memory: Memory) -> None:
    """The memories this one supersedes, is superseded by or may contradict
    (alma_app.memory.writes), each named by its text and id and linked to its own detail view."""
    shown: list[tuple[str, str, str]] = []
    for label, icon, read in LINKS:
        found = read(memory)
        for other_id in [found] if isinstance(found, str) else found or []:
            shown.append((label, icon, other_id))
    if not shown:
        return
    try:
        others = {m.id: m for m in alma.get_memories([i for _, _, i in shown])}
    except AlmaError as exc:
        st.error(str(exc))
        return
    if link_keys.superseded_by(memory):
        st.caption("A newer version superseded this memory: it ranks below it in retrieval.")
    for label, icon, other_id in shown:
        other = others.get(other_id)
        text = _link_text(other.summary()) if other else "no longer stored"
        st.markdown(f"{icon} **{label}** [{text}](/memories?memory={other_id}) `{other_id}`")


def _link_text(text: str) -> str:
    """A memory's text as a Markdown link label: brackets escaped, at most 120 characters."""
    short = text if len(text) <= 120 else text[:117] + "..."
    return short.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _quick_actions(alma: ALMA, memory: Memory, reviewer: str) -> None:
    key = f"detail:{memory.id}"
    with st.container(horizontal=True):
        if memory.status != "approved":
            st.button(
                "Approve",
                icon=":material/check:",
                key=f"{key}:approve",
                on_click=run_action,
                args=(lambda: _say(alma.approve([memory.id], reviewer=reviewer), "Approved"),),
            )
        if st.session_state.get(f"{key}:confirm"):
            st.warning(
                "Delete this memory? It moves to the archive; you can undo.",
                icon=":material/delete:",
            )
            st.button(
                "Yes, delete",
                type="primary",
                key=f"{key}:yes",
                on_click=run_action,
                args=(lambda: delete_memories(alma, [memory.id], reviewer, f"{key}:confirm"),),
            )
            st.button(
                "Cancel", key=f"{key}:no", on_click=st.session_state.pop, args=(f"{key}:confirm",)
            )
        else:
            st.button(
                "Delete…",
                icon=":material/delete:",
                key=f"{key}:delete",
                on_click=st.session_state.__setitem__,
                args=(f"{key}:confirm", True),
            )


def _say(changed: list[Memory], verb: str) -> str:
    return f"{verb}." if changed else "Nothing to change."


# ---------------------------------------------------------------------------------- edit


def editable_fields(memory: Memory) -> list[tuple[str, str]]:
    """(name, annotation) of the fields the edit form offers, in declaration order."""
    common = {f.name for f in fields(Memory)}
    chosen = [f for f in fields(memory) if f.name not in FIXED]
    chosen.sort(key=lambda f: f.name in common)  # the type's own fields first
    return [(f.name, str(f.type)) for f in chosen]


def edit_form(alma: ALMA, memory: Memory, reviewer: str) -> None:
    """Inline edit; saving a changed text re-embeds the memory (ALMA.update_memory)."""
    key = f"edit:{memory.id}:{memory.updated_at.timestamp()}"
    with st.form(key):
        values = field_inputs(memory, key)
        reason = st.text_input("Reason for the change (optional)", key=f"{key}:reason")
        saved = st.form_submit_button("Save changes", type="primary", icon=":material/save:")
    if saved:
        _save(alma, memory, reviewer, values, reason or None)


def short_edit_form(alma: ALMA, memory: Memory, reviewer: str, key: str) -> None:
    """The memory's main field and its stored confidence, saved like the full form. Widget keys
    are `{key}-text`, `{key}-confidence` and `{key}-save`."""
    main = MAIN_FIELD[memory.type]
    with st.form(key):
        values = {
            main: _input(memory, main, "str", f"{key}-text"),
            "confidence": _input(memory, "confidence", "float", f"{key}-confidence"),
        }
        saved = st.form_submit_button("Save", type="primary", key=f"{key}-save")
    if saved:
        _save(alma, memory, reviewer, values, None)


def _save(
    alma: ALMA, memory: Memory, reviewer: str, values: dict[str, Any], reason: str | None
) -> None:
    """Write the changed fields (re-embedding a changed text) and rerun with a flash."""
    with show_error():
        changes = changed_fields(memory, values)
        if not changes:
            st.info("Nothing changed.")
            return
        alma.update_memory(memory.id, actor=reviewer, reason=reason, **changes)
        flash(f"Saved: {', '.join(sorted(changes))}.")
        st.rerun()


def field_inputs(memory: Memory, key: str, only: set[str] | None = None) -> dict[str, Any]:
    """An input per editable field (or per field in `only`); returns name -> entered value."""
    return {
        name: _input(memory, name, kind, f"{key}:{name}")
        for name, kind in editable_fields(memory)
        if only is None or name in only
    }


def _input(memory: Memory, name: str, kind: str, widget_key: str) -> Any:
    value = getattr(memory, name)
    label = name.replace("_", " ").capitalize()
    if kind == "bool":
        return st.checkbox(label, value=bool(value), key=widget_key)
    if name == "confidence":
        return st.slider(label, 0.0, 1.0, float(value), step=0.01, key=widget_key)
    if kind.startswith("int"):
        return st.number_input(label, min_value=0, value=value, step=1, key=widget_key)
    if name == "shared_with":
        text = st.text_input(
            "Shared with (agents, comma separated)", ", ".join(value), key=widget_key
        )
        return [part.strip() for part in text.split(",") if part.strip()]
    if name == "metadata":
        return st.text_area(
            "Metadata (JSON)", json.dumps(value, indent=2, sort_keys=True), key=widget_key
        )
    text = "" if value is None else str(value)
    if name in LONG_TEXT:
        return st.text_area(label, text, key=widget_key, height=80)
    return st.text_input(label, text, key=widget_key)


def changed_fields(memory: Memory, values: dict[str, Any]) -> dict[str, Any]:
    """The fields whose new value differs; empty optional texts stay None."""
    changes: dict[str, Any] = {}
    for name, new in values.items():
        old = getattr(memory, name)
        if name == "metadata":
            try:
                new = json.loads(new or "{}")
            except json.JSONDecodeError as exc:
                raise ValidationError("metadata", f"is not valid JSON: {exc.msg}") from exc
            if not isinstance(new, dict):
                raise ValidationError("metadata", "must be a JSON object")
        if old is None and new in ("", None):
            continue
        if isinstance(old, float) and isinstance(new, int | float):
            new = round(float(new), 6)
            if abs(new - old) < 1e-6:
                continue
        if new != old:
            changes[name] = new
    return changes


# ---------------------------------------------------------------------------------- provenance


def provenance(alma: ALMA, memory: Memory) -> None:
    """The outcomes a heuristic or anti-pattern was learned from, the session, and who made it."""
    found = False
    source_ids = list(getattr(memory, "source_outcome_ids", []) or [])
    if source_ids:
        found = True
        st.markdown(f"**Learned from {len(source_ids)} outcome(s)**")
        for outcome_id in source_ids:
            try:
                outcome = alma.get_memory(outcome_id)
            except MemoryNotFound:
                st.markdown(f"- `{outcome_id}` — no longer stored")
                continue
            verdict = (
                ":green[:material/check_circle: succeeded]"
                if getattr(outcome, "success", False)
                else ":red[:material/cancel: failed]"
            )
            st.markdown(f"- {verdict}: {outcome.summary()}  \n  `{outcome.id}`")
    session_id = getattr(memory, "session_id", None)
    if session_id:
        found = True
        _session(alma, session_id)
    with show_error():
        events = alma.history(memory.id)
    if events:
        found = True
        first = events[0]
        st.caption(
            f"Created by **{first.actor}** ({first.action}) on {first.at:%Y-%m-%d %H:%M} UTC"
        )
    if memory.metadata:
        st.markdown("**Metadata**")
        st.json(memory.metadata)
    if not found:
        st.caption("No recorded source for this memory.")


def _session(alma: ALMA, session_id: str) -> None:
    manager = alma.sessions
    try:
        session = manager.get_session(session_id)
    except AlmaError:
        st.markdown(f"**Session** `{session_id}` (not stored)")
        return
    st.markdown(
        f"**Session** `{session.id}` of **{session.agent}** — {session.goal} "
        f"({session.status}, started {session.started_at:%Y-%m-%d %H:%M})"
    )


# ---------------------------------------------------------------------------------- history


def history(alma: ALMA, memory: Memory, reviewer: str) -> None:
    """Every version, newest first, each with its diff and a button to go back to it."""
    try:
        events = alma.history(memory.id)
    except AlmaError as exc:
        st.error(str(exc))
        return
    if not events:
        st.caption("No recorded history.")
        return
    for number, event in enumerate(reversed(events)):
        title = f"**{event.action}** by {event.actor} · {event.at:%Y-%m-%d %H:%M:%S} UTC"
        if event.reason:
            title += f" — {event.reason}"
        with st.expander(title, expanded=number == 0):
            diff = event_diff(event)
            if diff:
                st.code(diff, language="diff")
            else:
                st.caption("No field changed.")
            if number > 0 and (event.after or event.before):
                st.button(
                    "Revert to this version",
                    icon=":material/history:",
                    key=f"revert:{event.id}",
                    on_click=run_action,
                    args=(lambda e=event: _revert(alma, memory.id, e, reviewer),),
                )


def event_diff(event: HistoryEvent) -> str:
    """A unified diff of the memory's JSON before and after the event."""
    before = _lines(event.before)
    after = _lines(event.after)
    return "".join(
        difflib.unified_diff(before, after, fromfile="before", tofile="after", n=1)
    ).rstrip()


def _lines(snapshot: dict[str, Any] | None) -> list[str]:
    if snapshot is None:
        return []
    shown = {k: v for k, v in snapshot.items() if k not in {"updated_at"}}
    return [line + "\n" for line in json.dumps(shown, indent=2, sort_keys=True).splitlines()]


def _revert(alma: ALMA, memory_id: str, event: HistoryEvent, reviewer: str) -> str:
    alma.revert(memory_id, event.id, actor=reviewer)
    return f"Reverted to the version of {event.at:%Y-%m-%d %H:%M:%S} ({event.action})."
