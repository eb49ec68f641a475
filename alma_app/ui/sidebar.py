"""The sidebar every page shares: project, agent filter, reviewer name and the review backlog."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

import streamlit as st
from streamlit.errors import StreamlitAPIException

from alma_app import analytics
from alma_app.api import ALMA, HUMAN
from alma_app.errors import AlmaError

AGENT_KEY = "alma_agent"  # the agent filter, shared by every page for the whole session
REVIEWER_KEY = "alma_reviewer"  # who is recorded as the actor of changes made here
ALL_AGENTS = "All agents"


@dataclass(frozen=True)
class Scope:
    """What the sidebar selected: the agent to show (None: all) and the reviewer's name."""

    agent: str | None
    reviewer: str
    pending: int
    agents: tuple[str, ...] = ()  # every agent configured or owning memories


def sidebar(alma: ALMA) -> Scope:
    """Draw the sidebar and return the current scope."""
    with st.sidebar:
        st.markdown(f"### 🧠 {alma.project_id}")
        st.caption(f"Store `{alma.settings.store_uri}`")
        try:
            counts = analytics.agent_counts(alma)
        except AlmaError as exc:
            st.error(str(exc))
            counts = {}
        agents = sorted(set(alma.settings.agents) | {a for a in counts if a != analytics.USERS})
        options = [ALL_AGENTS, *agents]
        if st.session_state.get(AGENT_KEY) not in options:
            st.session_state[AGENT_KEY] = ALL_AGENTS
        choice = st.selectbox(
            "Agent",
            options,
            key=AGENT_KEY,
            persist_state="session",
            format_func=lambda name: _agent_label(name, counts),
            help="Every page shows this agent's memories only.",
        )
        agent = None if choice == ALL_AGENTS else choice
        pending = sum(c["pending"] for name, c in counts.items() if agent is None or name == agent)
        st.metric("Pending review", pending, help="Memories waiting for a human decision")
        if pending:
            # Without the app's navigation (a page run alone, as in tests) there is no link.
            with suppress(StreamlitAPIException):
                st.page_link("pages/review.py", label="Open the review queue", icon="📝")
        reviewer = st.text_input(
            "Reviewing as",
            value=HUMAN,
            key=REVIEWER_KEY,
            persist_state="session",
            help="Recorded as the actor of your approvals, edits and deletions.",
        )
    return Scope(
        agent=agent,
        reviewer=(reviewer or "").strip() or HUMAN,
        pending=pending,
        agents=tuple(agents),
    )


def _agent_label(name: str, counts: dict[str, dict[str, int]]) -> str:
    if name == ALL_AGENTS:
        return f"{ALL_AGENTS} ({sum(c['total'] for c in counts.values()):,})"
    return f"{name} ({counts.get(name, {}).get('total', 0):,})"
