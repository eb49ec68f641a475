"""The sidebar every page shares: project, agent filter, reviewer name and the review backlog."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

import streamlit as st
from streamlit.errors import StreamlitAPIException

from alma_app import insights
from alma_app.api import ALMA, HUMAN
from alma_app.errors import AlmaError

AGENT_KEY = "alma_agent"  # the agent filter widget
AGENT_CHOICE = "alma:agent"  # ... and its value, shared by every page for the whole session
REVIEWER_KEY = "alma_reviewer"  # who is recorded as the actor of changes made here
REVIEWER_CHOICE = "alma:reviewer"
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
        st.markdown(f"### :material/psychology: {alma.project_id}")
        st.caption(f"Store `{alma.settings.store_uri}`")
        try:
            counts = insights.agent_counts(alma)
        except AlmaError as exc:
            st.error(str(exc))
            counts = {}
        agents = sorted(set(alma.settings.agents) | {a for a in counts if a != insights.USERS})
        options = [ALL_AGENTS, *agents]
        # Widget state does not survive a page switch; the choice lives under its own key.
        if st.session_state.get(AGENT_CHOICE) not in options:
            st.session_state[AGENT_CHOICE] = ALL_AGENTS  # new session, or its memories are gone
        st.session_state[AGENT_KEY] = st.session_state[AGENT_CHOICE]
        choice = st.selectbox(
            "Agent",
            options,
            key=AGENT_KEY,
            on_change=_keep,
            args=(AGENT_KEY, AGENT_CHOICE),
            format_func=lambda name: _agent_label(name, counts),
            help="Every page shows this agent's memories only.",
        )
        agent = None if choice == ALL_AGENTS else choice
        pending = sum(c["pending"] for name, c in counts.items() if agent is None or name == agent)
        st.metric("Pending review", pending, help="Memories waiting for a human decision")
        if pending:
            # Without the app's navigation (a page run alone, as in tests) there is no link.
            with suppress(StreamlitAPIException):
                st.page_link(
                    "pages/review.py", label="Open the review queue", icon=":material/rate_review:"
                )
        st.session_state[REVIEWER_KEY] = st.session_state.setdefault(REVIEWER_CHOICE, HUMAN)
        reviewer = st.text_input(
            "Reviewing as",
            key=REVIEWER_KEY,
            on_change=_keep,
            args=(REVIEWER_KEY, REVIEWER_CHOICE),
            help="Recorded as the actor of your approvals, edits and deletions.",
        )
    return Scope(
        agent=agent,
        reviewer=(reviewer or "").strip() or HUMAN,
        pending=pending,
        agents=tuple(agents),
    )


def _keep(widget_key: str, choice_key: str) -> None:
    st.session_state[choice_key] = st.session_state[widget_key]


def _agent_label(name: str, counts: dict[str, dict[str, int]]) -> str:
    if name == ALL_AGENTS:
        return f"{ALL_AGENTS} ({sum(c['total'] for c in counts.values()):,})"
    return f"{name} ({counts.get(name, {}).get('total', 0):,})"
