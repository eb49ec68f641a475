"""Overview: how many memories each agent has, of which type and status."""

import pandas as pd
import plotly.express as px
import streamlit as st

from alma_app.ui import get_alma, show_error

alma = get_alma()
st.title("Memory overview")
st.caption(f"Project **{alma.project_id}**")

with show_error():
    stats = alma.stats()
    if stats["total"] == 0:
        st.info("The store is empty. Load the demo data with `alma demo`, or let agents learn.")
        st.stop()

    total, pending, approved = st.columns(3)
    total.metric("Memories", stats["total"])
    pending.metric("Pending review", stats["pending"])
    approved.metric("Approved", stats["by_status"].get("approved", 0))

    rows = [
        {"agent": agent, "type": memory_type, "count": count}
        for agent, per_type in stats["by_agent_and_type"].items()
        for memory_type, count in per_type.items()
        if count
    ]
    frame = pd.DataFrame(rows)
    st.subheader("Memories per agent and type")
    chart = px.bar(frame, x="agent", y="count", color="type", barmode="stack")
    st.plotly_chart(chart, width="stretch")
    table = frame.pivot_table(index="agent", columns="type", values="count", fill_value=0)
    st.dataframe(table, width="stretch")
