"""Sessions: each agent's work sessions and the handoffs they left for the next one."""

from collections.abc import Sequence

import streamlit as st

from alma_app.session import SessionHandoff
from alma_app.ui import get_alma, show_error, sidebar
from alma_app.ui.charts import timeline_figure

HANDOFF_KEY = "sessions.handoff"
AGENT_KEY = "sessions.agent"
FOLLOWS_KEY = "sessions.follows"  # the sidebar agent the filter last took its default from
EVERYONE = "all agents"
OUTCOME_ICONS = {
    "success": ":green[:material/check_circle:]",
    "partial": ":orange[:material/timelapse:]",
    "failure": ":red[:material/cancel:]",
    "interrupted": ":violet[:material/pause_circle:]",
    "unknown": ":gray[:material/help:]",
}
BADGE_COLORS = {
    "success": "green",
    "partial": "orange",
    "failure": "red",
    "interrupted": "violet",
}


def open_handoff(handoff_id: str) -> None:
    """Show a search hit: clear the page's agent filter (not the sidebar's) so the hit is among
    the listed handoffs."""
    st.session_state[AGENT_KEY] = EVERYONE
    st.session_state[HANDOFF_KEY] = handoff_id


def bullet_list(title: str, values: Sequence[str], empty: str = "none") -> None:
    st.markdown(f"**{title}**")
    st.markdown("\n".join(f"- {v}" for v in values) if values else f"_{empty}_")


def handoff_detail(h: SessionHandoff) -> None:
    """Everything a handoff says, laid out for a quick read."""
    with st.container(border=True, key="handoff-detail"):
        st.subheader(f"{OUTCOME_ICONS.get(h.last_outcome, '')} {h.goal}")
        minutes = "" if h.duration_ms is None else f" · {h.duration_ms / 60000:.0f} min"
        st.caption(
            f":material/person: {h.agent} · ended {h.session_end:%Y-%m-%d %H:%M} UTC{minutes}"
            f" · {h.id}"
        )
        st.badge(f"outcome: {h.last_outcome}", color=BADGE_COLORS.get(h.last_outcome, "gray"))
        confidence, passed, failed, skipped = st.columns(4)
        confidence.metric("Confidence", f"{h.confidence:.0%}")
        passed.metric("Tests passed", h.test_status.get("passed", 0))
        failed.metric("Tests failed", h.test_status.get("failed", 0))
        skipped.metric("Skipped", h.test_status.get("skipped", 0))
        st.markdown(f"**Last action** — {h.last_action}")
        st.caption(f"Test status: {h.tests_line()}")
        left, right = st.columns(2)
        with left:
            bullet_list("Next steps", h.next_steps)
            bullet_list("Key decisions", h.key_decisions)
        with right:
            bullet_list("Blockers", h.blockers, "no blockers")
            bullet_list("Risks", h.risk_flags, "no risks flagged")
        if h.active_files:
            st.markdown("**Files** " + " ".join(f"`{f}`" for f in h.active_files))


alma = get_alma()
scope = sidebar(alma)
manager = alma.sessions
st.title("Sessions & handoffs")
st.caption(
    f"Project **{alma.project_id}** · what each agent did, and what it left for its next session"
)

with show_error():
    sessions = manager.list_sessions(limit=1000)
    if not sessions:
        st.info(
            "No sessions recorded yet. Agents record them with SessionManager.start_session() and "
            "create_handoff(); `alma demo` loads a sample history."
        )
        st.stop()
    agents = sorted({s.agent for s in sessions} | set(scope.agents))
    # The filter follows the sidebar's agent; opening a search hit widens it to every agent.
    follows = scope.agent or EVERYONE
    if st.session_state.get(FOLLOWS_KEY, EVERYONE) != follows or (
        st.session_state.get(AGENT_KEY) not in (EVERYONE, *agents)
    ):
        st.session_state[AGENT_KEY] = follows
    st.session_state[FOLLOWS_KEY] = follows
    chosen = st.selectbox("Agent", [EVERYONE, *agents], key=AGENT_KEY)
    agent = None if chosen == EVERYONE else chosen
    handoffs = manager.list_handoffs(agent, limit=1000)
    by_session = {h.session_id: h for h in handoffs}
    now = alma.now()
    in_view = [s for s in sessions if agent is None or s.agent == agent]
    rows = [
        {
            "agent": s.agent,
            "start": s.started_at,
            "end": s.ended_at or now,
            "goal": s.goal,
            "outcome": by_session[s.id].last_outcome if s.id in by_session else s.status,
            "handoff": s.id in by_session,
        }
        for s in in_view
    ]
    n_sessions, n_handoffs, n_active = st.columns(3)
    n_sessions.metric("Sessions", len(in_view))
    n_handoffs.metric("Handoffs", len(handoffs))
    n_active.metric("Active now", sum(1 for s in in_view if s.status == "active"))
    if rows:
        st.plotly_chart(timeline_figure(rows), width="stretch")
    else:
        st.info(f"No sessions recorded for {agent} yet.")

    listing, detail = st.columns([2, 3], gap="large")
    with listing:
        st.subheader("Search handoffs")
        st.caption("Across every agent's handoffs: goals, actions, decisions, blockers, risks.")
        query = st.text_input(
            "Search", placeholder="e.g. flaky payment test", label_visibility="collapsed"
        )
        if query.strip():
            hits = manager.search_handoffs(query, limit=8)  # every agent's handoffs
            if not hits:
                st.caption("No handoff matches.")
            for hit in hits:
                st.button(
                    f"{OUTCOME_ICONS.get(hit.last_outcome, '')} {hit.agent}: {hit.goal}",
                    key=f"hit-{hit.id}",
                    on_click=open_handoff,
                    args=(hit.id,),
                    use_container_width=True,
                )
        st.subheader("Handoffs")
        if not handoffs:
            st.caption("This agent has not left a handoff yet.")
        else:
            names = {
                h.id: f"{OUTCOME_ICONS.get(h.last_outcome, '')} {h.session_end:%m-%d} "
                f"{h.agent}: {h.goal}"
                for h in handoffs
            }
            if st.session_state.get(HANDOFF_KEY) not in names:
                st.session_state[HANDOFF_KEY] = handoffs[0].id
            picked = st.radio(
                "Handoff",
                list(names),
                format_func=names.get,
                key=HANDOFF_KEY,
                label_visibility="collapsed",
            )
    with detail:
        if handoffs:
            handoff = next(h for h in handoffs if h.id == picked)
            handoff_detail(handoff)
            st.markdown(f"**Quick reload for {handoff.agent}** — paste it into its next session")
            st.code(manager.get_quick_reload(handoff.agent), language="markdown")
