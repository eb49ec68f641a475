"""Work items: the project's kanban board, what to do next, and how the work is burning down."""

import streamlit as st

from alma_app import insights
from alma_app.progress_strategies import STRATEGIES
from alma_app.ui import get_alma, show_error, show_flash, sidebar
from alma_app.ui.charts import burndown_figure, status_figure
from alma_app.ui.kanban import UNASSIGNED, board_view, item_form, tracker_for

STRATEGY_HELP = {
    "priority": "the most important actionable item",
    "quick_wins": "the least remaining work (estimate minus time spent)",
    "unblock_others": "the item most other items wait on",
    "fifo": "the oldest actionable item",
}
EVERYONE = "everyone"
AGENT_KEY = "work_items.agent"
FOLLOWS_KEY = "work_items.follows"  # the sidebar agent the filter last took its default from

alma = get_alma()
scope = sidebar(alma)
tracker = tracker_for(alma)
st.title("Work items")
st.caption(f"Project **{alma.project_id}** · the board agents and people share")
show_flash()

with show_error():
    everything = tracker.board()
    if not everything:
        st.info(
            "No work items yet. Create the first one below, load the demo board with "
            "`alma demo`, or let agents add theirs with ProgressTracker."
        )
    agents = sorted(
        {*alma.settings.agents, *scope.agents, *(i.agent for i in everything if i.agent)}
    )

    if everything:
        # The filter starts from the sidebar's agent (and follows it when it changes there);
        # the page keeps its own choice for the unassigned items the sidebar does not offer.
        options = [EVERYONE, *agents, UNASSIGNED]
        if st.session_state.get(FOLLOWS_KEY, EVERYONE) != (scope.agent or EVERYONE) or (
            st.session_state.get(AGENT_KEY) not in options
        ):
            st.session_state[AGENT_KEY] = scope.agent or EVERYONE
        st.session_state[FOLLOWS_KEY] = scope.agent or EVERYONE
        chosen = st.selectbox("Show the items of", options, key=AGENT_KEY)
        agent = None if chosen in (EVERYONE, UNASSIGNED) else chosen
        items = [
            i
            for i in everything
            if chosen == EVERYONE or (i.agent or UNASSIGNED) == (agent or UNASSIGNED)
        ]
        summary = tracker.get_progress_summary(agent=agent)
        done, doing, blocked, rate = st.columns(4)
        done.metric("Done", f"{summary.done} / {summary.total}")
        doing.metric("In progress", summary.in_progress)
        blocked.metric("Blocked", summary.blocked)
        rate.metric(
            "Success rate",
            "—" if summary.success_rate is None else f"{summary.success_rate:.0%}",
            help="done / (done + failed)",
        )
        st.progress(
            summary.completion_rate, text=f"{summary.completion_percentage:g}% of the items done"
        )

        tab_board, tab_next, tab_progress = st.tabs(["Board", "What next?", "Progress"])
        with tab_board:
            board_view(tracker, items, everything, scope.reviewer)
        with tab_next:
            st.caption("The actionable item each strategy picks (pending, every dependency done).")
            rows = []
            for strategy in STRATEGIES:
                pick = tracker.get_next_item(agent=agent, strategy=strategy)
                rows.append(
                    {
                        "strategy": strategy,
                        "picks": pick.title if pick else "— nothing actionable —",
                        "agent": (pick.agent or UNASSIGNED) if pick else "",
                        "priority": pick.priority if pick else None,
                        "remaining h": pick.remaining_hours if pick else None,
                        "unblocks": len(pick.blocks) if pick else None,
                        "why": STRATEGY_HELP[strategy],
                    }
                )
            st.dataframe(rows, hide_index=True, width="stretch")
        with tab_progress:
            st.plotly_chart(status_figure(summary.by_status), width="stretch")
            burndown = insights.board_burndown(alma)
            if burndown:
                st.plotly_chart(burndown_figure(burndown), width="stretch")
            if summary.blockers:
                st.markdown("**Blocked items**")
                names = {i.id: i.title for i in everything}
                for item in summary.blockers:
                    waits = ", ".join(f"“{names.get(d, d)}”" for d in item.blocked_by)
                    st.markdown(f"- **{item.title}** — waits on {waits}")

    st.divider()
    new, edit = st.columns(2)
    with new, st.expander(":material/add: New work item", expanded=not everything):
        item_form(tracker, everything, agents, actor=scope.reviewer)
    if everything:
        with edit, st.expander(":material/edit: Edit a work item"):
            titles = {i.id: f"{i.title} ({i.status.replace('_', ' ')})" for i in everything}
            picked = st.selectbox("Item", list(titles), format_func=titles.get, key="edit-item")
            item_form(tracker, everything, agents, tracker.get(picked), actor=scope.reviewer)
