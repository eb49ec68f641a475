"""Confidence: how memories decay, which ones will be forgotten soon, and the forget itself."""

from datetime import timedelta
from functools import partial

import streamlit as st

from alma_app import insights
from alma_app.types import Memory
from alma_app.ui import flash, get_alma, run_action, show_error, show_flash, sidebar
from alma_app.ui.charts import average_curves_figure, decay_figure, histogram_figure
from alma_app.ui.detail import short_edit_form

PREVIEW_KEY = "confidence.forget_preview"
CONFIRM_KEY = "confidence.forget_confirm"
UNDO_KEY = "confidence.undo"


def label(memory: Memory) -> str:
    text = memory.summary()
    short = text if len(text) <= 70 else text[:67] + "…"
    return f"{memory.type.replace('_', ' ')} · {memory.agent or 'user'} · {short}"


# Actions for run_action (alma_app.ui.state): each returns its message; an AlmaError is flashed.


def validate(memory: Memory, actor: str) -> str:
    alma.validate(memory.id, actor)
    return f"Validated “{label(memory)}”: its decay clock starts again today."


def let_go(memory: Memory, actor: str) -> str:
    alma.delete_memories([memory.id], actor=actor, reason="let go on the Confidence page")
    st.session_state[UNDO_KEY] = [memory.id]
    return f"Let go of “{label(memory)}” (archived; it can be restored)."


def restore(ids: list[str], actor: str) -> str:
    alma.restore(ids, actor)
    st.session_state.pop(UNDO_KEY, None)
    return f"Restored {len(ids)} memor{'y' if len(ids) == 1 else 'ies'}."


alma = get_alma()
scope = sidebar(alma)
agent = scope.agent
decay_settings = alma.settings.decay
threshold = decay_settings.forget_threshold
st.title("Confidence & forgetting")
st.caption(
    f"Confidence halves every half-life since a memory was last validated, seen or verified "
    f"(heuristics {decay_settings.heuristic:g} days, outcomes {decay_settings.outcome:g}, "
    f"preferences {decay_settings.preference:g}, domain knowledge "
    f"{decay_settings.domain_knowledge:g}, anti-patterns {decay_settings.anti_pattern:g}). "
    f"Below **{threshold:g}** a memory is forgotten."
)
show_flash()
undo = st.session_state.get(UNDO_KEY)
if undo:
    st.button(
        f":material/undo: Undo: restore {len(undo)} memories",
        key="undo",
        on_click=run_action,
        args=(partial(restore, undo, scope.reviewer),),
    )

with show_error():
    stats = alma.stats(agent)
    if stats["by_status"].get("approved", 0) == 0:
        whose = f" for agent {agent}" if agent else ""
        st.info(
            f"No approved memories{whose} yet, so nothing decays. "
            "Load the demo data with `alma demo`."
        )
        st.stop()
    left, _ = st.columns(2)
    horizon = left.slider("Horizon (days ahead)", 30, 730, 180, step=30)
    now = alma.now()

    tab_curves, tab_expiring, tab_forget = st.tabs(
        ["Decay curves", "Expiring soon", "Forget (preview first)"]
    )
    with tab_curves:
        view = st.radio(
            "Show",
            ["Selected memories", "Average per type", "Average per agent"],
            horizontal=True,
        )
        if view == "Selected memories":
            soon = alma.expiring(horizon, agent)
            pool = {m.id: m for m in (e.memory for e in soon)}
            page = alma.list_memories(agent=agent, status="approved", limit=200)
            pool |= {m.id: m for m in page.items}
            first_of_type: dict[str, str] = {}  # the soonest to go of each type: a varied start
            for entry in soon:
                first_of_type.setdefault(entry.memory.type, entry.memory.id)
            default = list(first_of_type.values())[:5] or list(pool)[:4]
            picked = st.multiselect(
                "Memories (up to 8)",
                list(pool),
                default=default,
                format_func=lambda i: label(pool[i]),
                max_selections=8,
            )
            if not picked:
                st.info("Pick one or more memories to draw their decay.")
            else:
                start = min(pool[i].clock for i in picked)
                end = now + timedelta(days=horizon)
                curves = {i: alma.confidence_curve(i, start, end, points=90) for i in picked}
                named = {
                    f"{n}. {pool[i].summary()[:36]}": curves[i] for n, i in enumerate(picked, 1)
                }
                st.plotly_chart(decay_figure(named, threshold, now), width="stretch")
                st.dataframe(
                    [
                        {
                            "memory": f"{n}. {label(pool[i])}",
                            "effective now": round(pool[i].effective_confidence or 0.0, 3),
                            "forgotten on": c.crosses_at.date() if c.crosses_at else None,
                            "days left": None
                            if c.crosses_at is None
                            else max(round((c.crosses_at - now).days), 0),
                        }
                        for n, (i, c) in enumerate(curves.items(), 1)
                    ],
                    hide_index=True,
                    width="stretch",
                )
        else:
            group = "type" if view == "Average per type" else "agent"
            rows = insights.average_curves(
                alma,
                group,
                start=now - timedelta(days=horizon // 2),
                end=now + timedelta(days=horizon),
            )
            st.plotly_chart(average_curves_figure(rows, group, threshold, now), width="stretch")
        histogram = insights.confidence_histogram(alma, agent=agent)
        st.plotly_chart(histogram_figure(histogram, threshold), width="stretch")

    with tab_expiring:
        days = st.slider("Forgotten within (days)", 1, 365, 30, key="expiring-days")
        soon = alma.expiring(days, agent)
        if not soon:
            st.success(f"No memory falls below {threshold:g} in the next {days} days.")
        st.caption(f"{len(soon)} memories will fall below the threshold within {days} days.")
        for entry in soon:
            memory = entry.memory
            with st.container(border=True):
                text, numbers, actions = st.columns([6, 2, 3])
                text.markdown(f"**{memory.summary()}**")
                text.caption(f"{memory.type.replace('_', ' ')} · {memory.agent or 'user'}")
                numbers.metric(
                    "in days", f"{entry.days_left:.0f}", help=f"on {entry.crosses_at:%Y-%m-%d}"
                )
                ok, change, drop = actions.columns(3)
                ok.button(
                    "Validate",
                    key=f"validate-{memory.id}",
                    on_click=run_action,
                    args=(partial(validate, memory, scope.reviewer),),
                )
                with change.popover("Edit"):
                    short_edit_form(alma, memory, scope.reviewer, key=f"edit-{memory.id}")
                drop.button(
                    "Let go",
                    key=f"letgo-{memory.id}",
                    on_click=run_action,
                    args=(partial(let_go, memory, scope.reviewer),),
                )

    with tab_forget:
        st.markdown(
            "Forgetting archives memories below a confidence, or stale **and** low-value ones "
            "(rejected, raw outcomes, heuristics that mostly failed). Preview first; archived "
            "memories can be restored."
        )
        with st.form("forget-preview"):
            a, b = st.columns(2)
            older = a.number_input("Stale after (days not validated)", 0, 3650, 90, key="older")
            below = b.slider(
                "Forget below effective confidence", 0.0, 1.0, float(threshold), key="below"
            )
            previewed = st.form_submit_button("Preview (dry run)", key="preview")
        if previewed:
            preview = alma.forget(agent, older, below, dry_run=True, actor=scope.reviewer)
            st.session_state[PREVIEW_KEY] = (agent, older, below, preview.ids)
            st.session_state[CONFIRM_KEY] = False
            rows = [
                {
                    "memory": label(item.memory),
                    "effective": round(item.memory.effective_confidence or 0.0, 3),
                    "reason": item.reason,
                }
                for item in preview.items
            ]
            st.session_state["confidence.preview_rows"] = rows
        stored = st.session_state.get(PREVIEW_KEY)
        if stored is not None:
            p_agent, p_older, p_below, p_ids = stored
            rows = st.session_state.get("confidence.preview_rows", [])
            if not p_ids:
                st.success("Nothing would be forgotten with these settings.")
            else:
                st.warning(f"{len(p_ids)} memories would be forgotten:")
                st.dataframe(rows, hide_index=True, width="stretch")
                if not st.session_state.get(CONFIRM_KEY):
                    if st.button(f"Forget these {len(p_ids)} memories…", key="forget-ask"):
                        st.session_state[CONFIRM_KEY] = True
                        st.rerun()
                else:
                    st.error(f"Archive {len(p_ids)} memories now? You can restore them later.")
                    yes, no = st.columns(2)
                    if yes.button(f"Yes, forget {len(p_ids)}", type="primary", key="forget-yes"):
                        result = alma.forget(p_agent, p_older, p_below, actor=scope.reviewer)
                        st.session_state[UNDO_KEY] = result.ids
                        for key in (PREVIEW_KEY, CONFIRM_KEY, "confidence.preview_rows"):
                            st.session_state.pop(key, None)
                        note = (
                            ""
                            if set(result.ids) == set(p_ids)
                            else " (the store changed since the preview)"
                        )
                        flash(f"Forgot {result.count} memories{note}.")
                        st.rerun()
                    if no.button("Cancel", key="forget-cancel"):
                        st.session_state[CONFIRM_KEY] = False
                        st.rerun()
