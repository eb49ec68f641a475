"""Widgets the pages share. Each owns its session-state keys (prefixed by the `key` it is given).

Writes run in widget callbacks (`run_action`), before the page script, so the tables drawn after
a click already show the change; their message, or the core's error, is flashed at the top.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import pandas as pd
import streamlit as st

from alma_app.api import ALMA
from alma_app.memory.transfer import export_bytes
from alma_app.types import MEMORY_TYPES, STATUSES, Memory
from alma_app.ui.state import generation, run_action

# Material icons, not emoji: they come with Streamlit's own font, so they render everywhere.
TYPE_LABELS = {
    "heuristic": "Heuristic",
    "outcome": "Outcome",
    "preference": "Preference",
    "domain_knowledge": "Domain knowledge",
    "anti_pattern": "Anti-pattern",
}
TYPE_ICONS = {
    "heuristic": ":material/lightbulb:",
    "outcome": ":material/flag:",
    "preference": ":material/person:",
    "domain_knowledge": ":material/menu_book:",
    "anti_pattern": ":material/block:",
}
STATUS_LABELS = {"pending": "Pending", "approved": "Approved", "rejected": "Rejected"}
STATUS_COLORS = {"pending": "orange", "approved": "green", "rejected": "red"}
STATUS_ICONS = {
    "pending": ":material/hourglass_top:",
    "approved": ":material/check_circle:",
    "rejected": ":material/cancel:",
}
STATUS_CELLS = {  # text and background of the status cells in tables
    "pending": "color: #92400E; background-color: #FEF3C7",
    "approved": "color: #166534; background-color: #DCFCE7",
    "rejected": "color: #991B1B; background-color: #FEE2E2",
}
ANY = "Any"
UNDO_KEY = "alma_undo"  # ids of the memories the last deletion archived
MIME = {"jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}


def type_label(memory_type: str) -> str:
    return TYPE_LABELS.get(memory_type, memory_type)


def badges(memory: Memory) -> None:
    """Status, type and owner of a memory as a row of badges."""
    st.badge(
        memory.status,
        icon=STATUS_ICONS.get(memory.status),
        color=STATUS_COLORS.get(memory.status, "gray"),  # type: ignore[arg-type]
    )
    st.badge(type_label(memory.TYPE), icon=TYPE_ICONS.get(memory.TYPE), color="violet")
    owner = memory.agent or getattr(memory, "user_id", "") or "—"
    st.badge(
        owner, icon=":material/smart_toy:" if memory.agent else ":material/person:", color="gray"
    )


# ---------------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """The filters of a memory listing, as ALMA.list_memories keyword arguments."""

    agent: str | None = None
    memory_type: str | None = None
    status: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None

    def kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def signature(self) -> str:
        """A short stable digest: widgets keyed on it reset when the filters change."""
        return hashlib.blake2b(
            repr(sorted(self.kwargs().items())).encode(), digest_size=4
        ).hexdigest()

    def accepts(self, memory: Memory) -> bool:
        """Whether a memory passes the confidence and date filters (for search hits)."""
        confidence = memory.stored_confidence
        if self.min_confidence is not None and confidence < self.min_confidence:
            return False
        if self.max_confidence is not None and confidence > self.max_confidence:
            return False
        if self.created_from is not None and memory.created_at < self.created_from:
            return False
        return not (self.created_to is not None and memory.created_at > self.created_to)


def memory_filters(key: str, agent: str | None, *, status: str | None = None) -> Filters:
    """Type, status, confidence and creation-date filters in one row."""
    kind, state, confidence, created = st.columns([1, 1, 1.3, 1.3])
    memory_type = kind.selectbox(
        "Type", [ANY, *MEMORY_TYPES], key=f"{key}:type", format_func=_any_or(type_label)
    )
    statuses = [ANY, *STATUSES]
    chosen_status = state.selectbox(
        "Status",
        statuses,
        index=statuses.index(status) if status else 0,
        key=f"{key}:status",
        format_func=_any_or(STATUS_LABELS.get),
    )
    low, high = confidence.slider(
        "Confidence (stored)", 0.0, 1.0, (0.0, 1.0), step=0.05, key=f"{key}:confidence"
    )
    days = created.date_input("Created between", value=(), key=f"{key}:created")
    start, end = _day_range(days)
    return Filters(
        agent=agent,
        memory_type=None if memory_type == ANY else memory_type,
        status=None if chosen_status == ANY else chosen_status,
        min_confidence=low if low > 0.0 else None,
        max_confidence=high if high < 1.0 else None,
        created_from=start,
        created_to=end,
    )


def _any_or(label: Any) -> Any:
    return lambda value: ANY if value == ANY else (label(value) or value)


def _day_range(days: Any) -> tuple[datetime | None, datetime | None]:
    picked = [d for d in (days if isinstance(days, tuple | list) else (days,)) if d]
    if not picked:
        return None, None
    first: date = picked[0]
    last: date = picked[-1]
    return (
        datetime.combine(first, time.min, tzinfo=UTC),
        datetime.combine(last, time.max, tzinfo=UTC),
    )


# ---------------------------------------------------------------------------------- tables

SCORE_COLUMNS = ("score", "similarity", "lexical", "relevance", "recency", "success")


def memory_frame(memories: list[Memory], *, scores: bool = False) -> pd.DataFrame:
    """One row per memory: what the tables show (scores too, for search hits)."""
    rows = []
    for memory in memories:
        row: dict[str, Any] = {
            "id": memory.id,
            "status": memory.status,
            "type": type_label(memory.TYPE),
            "owner": memory.agent or getattr(memory, "user_id", "") or "",
            "memory": memory.summary(),
            "confidence": memory.effective_confidence,
            "category": memory.category,
            "created": memory.created_at,
        }
        if scores and memory.score is not None:
            breakdown = memory.score.as_dict()
            row["score"] = breakdown.pop("total")
            row.update({k: v for k, v in breakdown.items() if k in SCORE_COLUMNS})
        rows.append(row)
    columns = ["id", "status", "type", "owner", "memory", "confidence", "category", "created"]
    if scores:
        columns = ["score", *columns[1:6], *SCORE_COLUMNS[1:], "id"]
    return pd.DataFrame(rows, columns=columns)


def _column_config() -> dict[str, Any]:
    ratio = {"min_value": 0.0, "max_value": 1.0, "format": "%.2f"}
    config: dict[str, Any] = {
        "id": st.column_config.TextColumn("ID", width="small"),
        "status": st.column_config.TextColumn("Status", width="small"),
        "type": st.column_config.TextColumn("Type"),
        "owner": st.column_config.TextColumn("Agent / user", width="small"),
        "memory": st.column_config.TextColumn("Memory", width="large"),
        "confidence": st.column_config.ProgressColumn(
            "Confidence", help="Effective confidence, after decay", **ratio
        ),
        "category": st.column_config.TextColumn("Category", width="small"),
        "created": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm"),
        "score": st.column_config.ProgressColumn(
            "Score", help="The weighted total agents are ranked by", **ratio
        ),
    }
    for name in SCORE_COLUMNS[1:]:
        config[name] = st.column_config.NumberColumn(name.capitalize(), format="%.2f")
    return config


def memory_table(memories: list[Memory], key: str, *, scores: bool = False) -> list[str]:
    """A selectable table of memories; returns the ids of the selected rows."""
    frame = memory_frame(memories, scores=scores)
    styled = frame.style.map(lambda s: STATUS_CELLS.get(s, ""), subset=["status"])
    event = st.dataframe(
        styled,
        key=f"{key}:{generation()}",
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        column_config=_column_config(),
        width="stretch",
    )
    return [frame["id"].iloc[i] for i in event.selection.rows if i < len(frame)]


# ---------------------------------------------------------------------------------- actions


def bulk_actions(alma: ALMA, ids: list[str], key: str, reviewer: str) -> None:
    """Approve, reject (with a reason), delete (after confirmation) or export the selection."""
    confirm_key = f"{key}:confirm"
    if st.session_state.get(confirm_key):
        _confirm_delete(alma, confirm_key, reviewer)
        return
    count = len(ids)
    noun = "memory" if count == 1 else "memories"
    st.caption(f"**{count}** {noun} selected" if ids else "Select rows to act on them.")
    approve, reject, delete, jsonl, parquet = st.columns(5)
    approve.button(
        "Approve",
        icon=":material/check:",
        key=f"{key}:approve",
        disabled=not ids,
        on_click=run_action,
        args=(lambda: _approve(alma, ids, reviewer),),
        width="stretch",
    )
    popover = reject.popover("Reject…", icon=":material/close:", disabled=not ids, width="stretch")
    with popover, st.form(f"{key}:reject-form", border=False):
        st.text_input("Why reject?", key=f"{key}:reason", placeholder="e.g. wrong for our stack")
        st.form_submit_button(
            f"Reject {count} {noun}",
            type="primary",
            on_click=run_action,
            args=(lambda: _reject(alma, ids, reviewer, st.session_state[f"{key}:reason"]),),
        )
    delete.button(
        "Delete…",
        icon=":material/delete:",
        key=f"{key}:delete",
        disabled=not ids,
        on_click=st.session_state.__setitem__,
        args=(confirm_key, list(ids)),
        width="stretch",
    )
    for column, fmt in ((jsonl, "jsonl"), (parquet, "parquet")):
        column.download_button(
            fmt.upper(),
            data=export_bytes(alma, fmt, ids) if ids else b"",
            file_name=f"alma-{count}-memories.{fmt}",
            mime=MIME[fmt],
            icon=":material/download:",
            key=f"{key}:{fmt}",
            disabled=not ids,
            on_click="ignore",
            width="stretch",
        )


def _approve(alma: ALMA, ids: list[str], reviewer: str) -> str:
    changed = alma.approve(ids, reviewer=reviewer)
    return f"Approved {len(changed)} of {len(ids)} selected."


def _reject(alma: ALMA, ids: list[str], reviewer: str, reason: str) -> str:
    changed = alma.reject(ids, reviewer=reviewer, reason=reason)
    return f"Rejected {len(changed)} of {len(ids)} selected."


def _confirm_delete(alma: ALMA, confirm_key: str, reviewer: str) -> None:
    ids = st.session_state[confirm_key]
    noun = "memory" if len(ids) == 1 else "memories"
    with st.container(border=True):
        st.warning(
            f"Delete **{len(ids)}** {noun}? They move to the archive: agents stop seeing them, "
            "and you can undo this.",
            icon=":material/delete:",
        )
        yes, no, _ = st.columns([1, 1, 4])
        yes.button(
            f"Yes, delete {len(ids)}",
            type="primary",
            key=f"{confirm_key}:yes",
            on_click=run_action,
            args=(lambda: delete_memories(alma, ids, reviewer, confirm_key),),
        )
        no.button(
            "Cancel", key=f"{confirm_key}:no", on_click=st.session_state.pop, args=(confirm_key,)
        )


def delete_memories(alma: ALMA, ids: list[str], reviewer: str, confirm_key: str | None) -> str:
    """Delete (to the archive) and remember the ids so that `undo_banner` can restore them."""
    if confirm_key:
        st.session_state.pop(confirm_key, None)
    count = alma.delete_memories(ids, actor=reviewer, reason="deleted in the dashboard")
    st.session_state[UNDO_KEY] = list(ids)
    return f"Deleted {count} {'memory' if count == 1 else 'memories'} (kept in the archive)."


def undo_banner(alma: ALMA, reviewer: str) -> None:
    """After a deletion: a way back. Restores the memories from the archive, re-embedded."""
    ids = st.session_state.get(UNDO_KEY)
    if not ids:
        return
    note, undo, dismiss = st.columns([6, 1, 1], vertical_alignment="center")
    noun = "memory was" if len(ids) == 1 else "memories were"
    note.info(f"{len(ids)} {noun} deleted.", icon=":material/delete:")
    undo.button(
        "Undo",
        icon=":material/undo:",
        key="alma_undo:do",
        on_click=run_action,
        args=(lambda: _restore(alma, ids, reviewer),),
    )
    dismiss.button(
        "Dismiss", key="alma_undo:dismiss", on_click=st.session_state.pop, args=(UNDO_KEY,)
    )


def _restore(alma: ALMA, ids: list[str], reviewer: str) -> str:
    restored = alma.restore(ids, actor=reviewer)
    st.session_state.pop(UNDO_KEY, None)
    return f"Restored {len(restored)} {'memory' if len(restored) == 1 else 'memories'}."
