"""Plotly figure builders for the dashboard: plain rows in, a styled figure out.

Every figure shares one look (template, margins, legend on top) so the pages read as one app.
Builders take what the core returns (ConfidenceCurve, alma_app.insights rows, sessions) and
never query anything themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from alma_app.decay import ConfidenceCurve

TEMPLATE = "plotly_white"
TYPE_COLORS = {
    "heuristic": "#4C78A8",
    "anti_pattern": "#E45756",
    "outcome": "#72B7B2",
    "preference": "#F58518",
    "domain_knowledge": "#54A24B",
}
STATUS_COLORS = {
    "pending": "#9D9DA1",
    "in_progress": "#4C78A8",
    "blocked": "#E45756",
    "review": "#F58518",
    "done": "#54A24B",
    "failed": "#B279A2",
}
OUTCOME_COLORS = {
    "success": "#54A24B",
    "partial": "#F58518",
    "failure": "#E45756",
    "interrupted": "#B279A2",
    "unknown": "#9D9DA1",
}
THRESHOLD_COLOR = "#E45756"


def style(fig: go.Figure, title: str, height: int = 380, legend_below: bool = False) -> go.Figure:
    """The dashboard's common look: title, white template, a horizontal legend above the plot
    (or below it, where long names or facet titles would collide with it)."""
    legend = {"orientation": "h", "xanchor": "right", "x": 1, "yanchor": "bottom", "y": 1.0}
    if legend_below:
        legend |= {"xanchor": "left", "x": 0, "yanchor": "top", "y": -0.12}
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        template=TEMPLATE,
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        legend=legend,
        legend_title_text="",
    )
    return fig


def _threshold_and_now(fig: go.Figure, threshold: float, now: datetime) -> None:
    fig.add_hline(
        y=threshold,
        line={"color": THRESHOLD_COLOR, "dash": "dash"},
        annotation_text=f"forget threshold {threshold:g}",
        annotation_position="bottom left",
    )
    fig.add_vline(x=now, line={"color": "#888", "dash": "dot"})
    fig.add_annotation(x=now, y=1.02, text="today", showarrow=False, yref="y")


def decay_figure(
    curves: Mapping[str, ConfidenceCurve], threshold: float, now: datetime
) -> go.Figure:
    """One line per memory, the forget threshold, today, and a marker where each crosses it."""
    fig = go.Figure()
    for label, curve in curves.items():
        fig.add_scatter(x=curve.times, y=curve.values, mode="lines", name=label)
        if curve.crosses_at is not None and curve.times[0] <= curve.crosses_at <= curve.times[-1]:
            fig.add_scatter(
                x=[curve.crosses_at],
                y=[threshold],
                mode="markers",
                marker={"symbol": "x", "size": 11, "color": THRESHOLD_COLOR},
                name=f"{label}: forgotten {curve.crosses_at:%Y-%m-%d}",
                showlegend=False,
                hovertemplate=f"{label}<br>crosses the threshold on %{{x|%Y-%m-%d}}<extra></extra>",
            )
    _threshold_and_now(fig, threshold, now)
    fig.update_yaxes(range=[0, 1.05], title="effective confidence")
    fig.update_xaxes(title=None)
    return style(fig, "Effective confidence over time", height=460, legend_below=True)


def average_curves_figure(
    rows: Sequence[Mapping[str, Any]], group: str, threshold: float, now: datetime
) -> go.Figure:
    """Average effective confidence per type or agent (rows of insights.average_curves)."""
    frame = pd.DataFrame(rows)
    colors = TYPE_COLORS if group == "type" else None
    fig = px.line(frame, x="time", y="confidence", color="group", color_discrete_map=colors or {})
    _threshold_and_now(fig, threshold, now)
    fig.update_yaxes(range=[0, 1.05], title="average effective confidence")
    fig.update_xaxes(title=None)
    return style(fig, f"Average effective confidence per {group}", height=420)


def histogram_figure(rows: Sequence[Mapping[str, Any]], threshold: float) -> go.Figure:
    """Memories per bin of current effective confidence, stacked by type."""
    frame = pd.DataFrame(rows)
    frame["confidence"] = (frame["bin_start"] + frame["bin_end"]) / 2
    width = float((frame["bin_end"] - frame["bin_start"]).iloc[0])
    fig = px.bar(
        frame,
        x="confidence",
        y="memories",
        color="type",
        color_discrete_map=TYPE_COLORS,
        hover_data={"bin_start": ":.2f", "bin_end": ":.2f", "confidence": False},
    )
    fig.update_traces(width=width * 0.95)
    fig.add_vline(x=threshold, line={"color": THRESHOLD_COLOR, "dash": "dash"})
    fig.update_xaxes(range=[0, 1], title="current effective confidence")
    return style(fig, "How confident the store is today")


def heuristic_confidence_figure(rows: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Heuristics' stored vs effective confidence as overlaid histograms."""
    frame = pd.DataFrame(rows)
    long = frame.melt(
        id_vars=["id", "agent"], value_vars=["stored", "effective"], var_name="confidence of"
    )
    fig = px.histogram(
        long,
        x="value",
        color="confidence of",
        barmode="overlay",
        nbins=20,
        range_x=[0, 1],
        color_discrete_map={"stored": "#9ECAE9", "effective": "#4C78A8"},
    )
    fig.update_xaxes(title="confidence")
    fig.update_yaxes(title="heuristics")
    return style(fig, "Heuristics: stored vs effective confidence")


def learning_figure(rows: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Running total of memories per type, one panel per agent."""
    frame = pd.DataFrame(rows)
    fig = px.line(
        frame,
        x="period",
        y="total",
        color="type",
        facet_col="agent",
        facet_col_wrap=4,
        markers=True,
        line_shape="hv",
        color_discrete_map=TYPE_COLORS,
    )
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_xaxes(title=None)
    fig.update_yaxes(title=None)
    return style(fig, "Memories learned over time, per agent", height=420, legend_below=True)


def success_figure(rows: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Success rate of outcomes per task type (one bar per type and agent), labelled with
    successes out of outcomes."""
    frame = pd.DataFrame(rows).sort_values(["agent", "task_type"], ascending=False)
    frame["label"] = [
        f"{s}/{n}" for s, n in zip(frame["successes"], frame["outcomes"], strict=True)
    ]
    fig = px.bar(
        frame,
        y="task_type",
        x="success_rate",
        color="agent",
        orientation="h",
        text="label",
        hover_data={"outcomes": True, "successes": True},
    )
    fig.update_xaxes(range=[0, 1.05], tickformat=".0%", title="success rate")
    fig.update_yaxes(title=None)
    return style(fig, "Success rate by task type", height=120 + 28 * len(frame))


def burndown_figure(rows: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Open items falling and done items rising, day by day."""
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    fig.add_scatter(
        x=frame["day"], y=frame["open"], name="open", mode="lines", line={"color": "#E45756"}
    )
    fig.add_scatter(
        x=frame["day"],
        y=frame["done"],
        name="done",
        mode="lines",
        fill="tozeroy",
        line={"color": "#54A24B"},
    )
    fig.add_scatter(
        x=frame["day"],
        y=frame["created"],
        name="created",
        mode="lines",
        line={"color": "#9D9DA1", "dash": "dot"},
    )
    fig.update_yaxes(title="work items", rangemode="tozero")
    return style(fig, "Burn-down: open vs done", height=320)


def status_figure(by_status: Mapping[str, int]) -> go.Figure:
    """One horizontal bar split by status: where the board stands."""
    fig = go.Figure()
    for status, count in by_status.items():
        if count:
            fig.add_bar(
                x=[count],
                y=["board"],
                name=status.replace("_", " "),
                orientation="h",
                marker_color=STATUS_COLORS.get(status),
                text=[count],
            )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(visible=False)
    fig.update_xaxes(title="work items")
    return style(fig, "Items per status", height=200)


def timeline_figure(rows: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Sessions as bars per agent (coloured by how they ended), handoffs as diamonds."""
    frame = pd.DataFrame(rows)
    fig = px.timeline(
        frame,
        x_start="start",
        x_end="end",
        y="agent",
        color="outcome",
        color_discrete_map=OUTCOME_COLORS,
        hover_data={"goal": True, "start": "|%Y-%m-%d %H:%M", "end": "|%Y-%m-%d %H:%M"},
    )
    ended = frame[frame["handoff"]]
    fig.add_scatter(
        x=ended["end"],
        y=ended["agent"],
        mode="markers",
        marker={"symbol": "diamond", "size": 9, "color": "#333"},
        name="handoff",
        hovertext=ended["goal"],
    )
    fig.update_yaxes(title=None, autorange="reversed")
    return style(fig, "Sessions and handoffs", height=120 + 60 * frame["agent"].nunique())
