"""Overview: how many memories each agent has, of which type and status, how they grew, and
what changed lately (all computed by DuckDB over the store)."""

import pandas as pd
import plotly.express as px
import streamlit as st

from alma_app import insights
from alma_app.ui import get_alma, show_error, show_flash, sidebar, type_label

alma = get_alma()
scope = sidebar(alma)
st.title("Memory overview", anchor=False)
who = f"agent **{scope.agent}**" if scope.agent else "all agents"
st.caption(f"Project **{alma.project_id}** · {who}")
show_flash()

with show_error():
    stats = alma.stats(scope.agent)
    if stats["total"] == 0:
        st.info(
            "The store is empty. Load the demo data with `alma demo`, or let agents learn.",
            icon=":material/eco:",
        )
        st.stop()

    total, pending, approved, rejected, agents = st.columns(5)
    total.metric("Memories", f"{stats['total']:,}", border=True)
    pending.metric("Pending review", f"{stats['pending']:,}", border=True)
    approved.metric("Approved", f"{stats['by_status'].get('approved', 0):,}", border=True)
    rejected.metric("Rejected", f"{stats['by_status'].get('rejected', 0):,}", border=True)
    agents.metric("Agents", len([a for a in stats["by_agent"] if a != "(users)"]), border=True)

    rows = [
        {"agent": agent, "type": type_label(memory_type), "count": count}
        for agent, per_type in stats["by_agent_and_type"].items()
        for memory_type, count in per_type.items()
        if count
    ]
    frame = pd.DataFrame(rows)
    per_agent, per_status = st.columns([2, 1])
    with per_agent:
        st.subheader("Per agent and type", anchor=False)
        chart = px.bar(frame, x="agent", y="count", color="type", barmode="stack")
        chart.update_layout(margin=dict(t=10, b=10), legend_title_text="", height=340)
        st.plotly_chart(chart, width="stretch")
    with per_status:
        st.subheader("Status", anchor=False)
        statuses = pd.DataFrame(
            [{"status": s, "count": n} for s, n in stats["by_status"].items() if n]
        )
        colors = {"approved": "#16A34A", "pending": "#F59E0B", "rejected": "#DC2626"}
        donut = px.pie(
            statuses,
            names="status",
            values="count",
            hole=0.55,
            color="status",
            color_discrete_map=colors,
        )
        donut.update_layout(margin=dict(t=10, b=10), height=340)
        st.plotly_chart(donut, width="stretch")
    table = frame.pivot_table(index="agent", columns="type", values="count", fill_value=0)
    st.dataframe(table, width="stretch")

    st.subheader("Memory growth", anchor=False)
    growth = pd.DataFrame(insights.memory_growth(alma, scope.agent))
    growth["type"] = growth["type"].map(type_label)
    # Every type on every day, so that the stacked areas only ever grow.
    totals = growth.pivot_table(
        index="day", columns="type", values="added", aggfunc="sum", fill_value=0
    ).cumsum()
    area = px.area(totals, labels={"value": "memories", "day": "", "type": ""})
    area.update_layout(margin=dict(t=10, b=10), height=320)
    st.plotly_chart(area, width="stretch")

    st.subheader("Recent activity", anchor=False)
    activity = insights.recent_activity(alma, limit=25, agent=scope.agent)
    if not activity:
        st.caption("Nothing has changed yet.")
    else:
        st.dataframe(
            pd.DataFrame(activity).fillna(""),
            hide_index=True,
            width="stretch",
            column_order=["at", "action", "actor", "type", "agent", "memory", "reason"],
            column_config={
                "at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss"),
                "action": st.column_config.TextColumn("Action", width="small"),
                "actor": st.column_config.TextColumn("By", width="small"),
                "type": st.column_config.TextColumn("Type", width="small"),
                "agent": st.column_config.TextColumn("Agent", width="small"),
                "memory": st.column_config.TextColumn("Memory", width="large"),
                "reason": st.column_config.TextColumn("Reason"),
            },
        )
