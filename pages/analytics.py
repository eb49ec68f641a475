"""Analytics: what agents learned over time, how well they do, and how healthy the memory is."""

from typing import Any

import streamlit as st

from alma_app import insights
from alma_app.ui import get_alma, show_error, sidebar
from alma_app.ui.charts import heuristic_confidence_figure, learning_figure, success_figure


def mine(rows: list[dict[str, Any]], agent: str | None) -> list[dict[str, Any]]:
    """The rows of the sidebar's agent (every row when it shows all agents)."""
    return [r for r in rows if agent is None or r["agent"] == agent]


alma = get_alma()
scope = sidebar(alma)
agent = scope.agent
st.title("Analytics")
who = f"agent **{agent}**" if agent else "all agents"
st.caption(f"Project **{alma.project_id}** · {who} · computed by DuckDB over the memory store")

with show_error():
    if alma.stats(agent)["total"] == 0:
        whose = f" for agent {agent}" if agent else ""
        st.info(
            f"No memories{whose} yet. Load the demo data with `alma demo`, or let agents learn."
        )
        st.stop()

    st.header("Learning")
    period = st.segmented_control("Per", list(insights.PERIODS), default="week", key="period")
    learned = mine(insights.learning_over_time(alma, period or "week"), agent)
    st.plotly_chart(learning_figure(learned), width="stretch")

    outcomes, heuristics = st.columns(2, gap="large")
    with outcomes:
        st.header("Outcomes")
        success = mine(insights.success_by_task_type(alma), agent)
        if success:
            st.plotly_chart(success_figure(success), width="stretch")
        else:
            st.info("No outcomes recorded yet: agents record them with ALMA.learn().")
    with heuristics:
        st.header("Heuristics")
        rows = mine(insights.heuristic_confidence(alma), agent)
        if rows:
            st.plotly_chart(heuristic_confidence_figure(rows), width="stretch")
            approved = [r for r in rows if r["status"] == "approved"]
            stored, effective = st.columns(2)
            if approved:
                stored.metric(
                    "Average stored", f"{sum(r['stored'] for r in approved) / len(approved):.2f}"
                )
                effective.metric(
                    "Average effective",
                    f"{sum(r['effective'] for r in approved) / len(approved):.2f}",
                    help="after decay, approved heuristics",
                )
        else:
            st.info("No heuristics yet: they form after repeated successful outcomes.")

    st.header("Memory health")
    if agent:
        st.caption("Health covers every agent's memories of the project.")
    with st.expander("Health settings"):
        left, right = st.columns(2)
        stale_days = left.slider("Stale after (days not validated)", 7, 365, 90, key="stale")
        similarity = right.slider(
            "Near-duplicate similarity",
            0.70,
            1.0,
            float(alma.settings.near_duplicate_similarity),
            0.01,
            key="similarity",
        )
    health = insights.memory_health(alma, stale_days, similarity)
    total = health["total"]
    duplicates, stale, never = st.columns(3)
    shares = health["shares"]
    duplicates.metric(
        "Near-duplicates",
        f"{shares['near_duplicates']:.0%}",
        help=f"another memory of the same type and agent is at least {similarity:.2f} similar "
        f"(among the {health['compared']} newest)",
        border=True,
    )
    duplicates.caption(f"{health['near_duplicates']} of {total} memories")
    stale.metric(
        "Stale",
        f"{shares['stale']:.0%}",
        help=f"not validated, verified or seen for {stale_days} days",
        border=True,
    )
    stale.caption(f"{health['stale']} of {total} memories")
    never.metric(
        "Never used",
        f"{shares['never_used']:.0%}",
        help="heuristics and anti-patterns never applied; facts and preferences never "
        "validated nor reinforced since written",
        border=True,
    )
    never.caption(f"{health['never_used']} of {total} memories")
    if health["pairs"]:
        with st.expander(f"Near-duplicate pairs ({len(health['pairs'])})"):
            st.dataframe(
                [
                    {
                        "similarity": round(p["similarity"], 3),
                        "type": p["type"],
                        "agent": p["agent"],
                        "first": p["first_text"],
                        "second": p["second_text"],
                    }
                    for p in health["pairs"]
                ],
                hide_index=True,
                width="stretch",
            )

    st.subheader("Most-retrieved memories")
    retrieved = insights.most_retrieved(alma, limit=10 if agent is None else 200)
    found = {m.id: m for m in alma.get_memories([r["memory_id"] for r in retrieved])}
    if agent is not None:
        retrieved = [
            r for r in retrieved if r["memory_id"] in found and found[r["memory_id"]].agent == agent
        ][:10]
    if not retrieved:
        st.info(
            "No retrievals recorded yet. Every memory that retrieve() returns to an agent is "
            "counted (flushed to the store every few seconds); the ranking appears here then.",
            icon=":material/info:",
        )
    else:
        st.dataframe(
            [
                {
                    "memory": found[r["memory_id"]].summary()
                    if r["memory_id"] in found
                    else "(deleted)",
                    "type": found[r["memory_id"]].TYPE if r["memory_id"] in found else "",
                    **r,
                }
                for r in retrieved
            ],
            hide_index=True,
            width="stretch",
        )
