"""A launch plan's figures: Gantt with the critical path, finish distribution, criticality,
who waits on whom, and how the forecast moved."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go

__all__ = ["figures"]

_LAYOUT: dict[str, Any] = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 40},
    "plot_bgcolor": "white",
    "font": {"family": "system-ui, sans-serif", "size": 13},
}
DAY_MS = 86_400_000


def gantt_figure(f: dict[str, Any]) -> go.Figure:
    """Each task's single-date bar (critical path in red) and its float after it."""
    tasks = list(reversed(f["tasks"]))
    start = date.fromisoformat(f["start"])
    names = [t["name"] for t in tasks]

    def day(d: float) -> str:
        return (start + timedelta(days=d)).isoformat()

    fig = go.Figure()
    for critical, colour, label in ((True, "#cf222e", "critical path"), (False, "#0969da", "task")):
        pick = [t for t in tasks if t["critical"] == critical]
        fig.add_trace(
            go.Bar(
                y=[t["name"] for t in pick], x=[max(t["ef"] - t["es"], 0.3) * DAY_MS for t in pick],
                base=[day(t["es"]) for t in pick], orientation="h", name=label,
                marker_color=colour, customdata=[[t["team"] or "", t["start"], t["end"],
                f"{t['criticality']:.0%}"] for t in pick],
                hovertemplate="%{y} (%{customdata[0]})<br>%{customdata[1]} → %{customdata[2]}"
                "<br>critical in %{customdata[3]} of runs<extra></extra>",
            )
        )  # fmt: skip
    slack = [t for t in tasks if t["float"] > 0.5]
    fig.add_trace(
        go.Bar(
            y=[t["name"] for t in slack], x=[t["float"] * DAY_MS for t in slack],
            base=[day(t["ef"]) for t in slack], orientation="h", name="float",
            marker={"color": "rgba(9,105,218,0.15)", "line": {"color": "#0969da", "width": 1}},
            hovertemplate="%{y}: %{customdata:.0f} days of float<extra></extra>",
            customdata=[t["float"] for t in slack],
        )
    )  # fmt: skip
    if f.get("target"):
        fig.add_vline(x=f["target"], line_dash="dash", line_color="#57606a")
    fig.update_layout(
        title="The single-date plan: critical path and float",
        barmode="overlay", height=max(320, 26 * len(names) + 80),
        xaxis={"type": "date"}, yaxis={"categoryorder": "array", "categoryarray": names},
        **_LAYOUT,
    )  # fmt: skip
    return fig


def finish_figure(f: dict[str, Any]) -> go.Figure:
    """How often each finish date came up, with the percentiles and the target."""
    h = f["histogram"]
    fig = go.Figure(
        go.Bar(
            x=h["dates"], y=h["runs"], marker_color="#8c959f", name="runs",
            hovertemplate="%{x}: %{y} runs<extra></extra>",
        )
    )  # fmt: skip
    fin = f["finish"]
    for key, colour in (("p50", "#0969da"), ("p80", "#9a6700"), ("p95", "#cf222e")):
        fig.add_vline(x=fin[key], line_color=colour, annotation_text=key.upper())
    if f.get("target"):
        fig.add_vline(
            x=f["target"], line_dash="dash", line_color="#1a7f37", annotation_text="target"
        )
    fig.update_layout(
        title=f"Finish dates over {f['runs']:,} runs", height=340, xaxis={"type": "date"},
        showlegend=False, **_LAYOUT,
    )  # fmt: skip
    return fig


def criticality_figure(f: dict[str, Any]) -> go.Figure:
    """The tasks most often on the critical path."""
    ranked = sorted(
        (t for t in f["tasks"] if t["kind"] != "milestone"), key=lambda t: -t["criticality"]
    )[:12]
    ranked.reverse()
    fig = go.Figure(
        go.Bar(
            y=[t["name"] for t in ranked], x=[100 * t["criticality"] for t in ranked],
            orientation="h", marker_color="#cf222e",
            customdata=[[t["cruciality"], t["ssi"]] for t in ranked],
            hovertemplate="%{y}: critical in %{x:.0f} % of runs<br>cruciality %{customdata[0]:.2f}"
            ", sensitivity %{customdata[1]:.2f}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title="Criticality: share of runs on the critical path", height=380,
        xaxis={"ticksuffix": " %", "range": [0, 100]}, **_LAYOUT,
    )  # fmt: skip
    return fig


def waits_figure(f: dict[str, Any]) -> go.Figure:
    """Who waits on whom: a flow from each team to the teams that wait on it."""
    teams = sorted({r["team"] for r in f["teams"]} | {r["waits_on"] for r in f["teams"]})
    at = {t: i for i, t in enumerate(teams)}
    fig = go.Figure(
        go.Sankey(
            node={"label": teams, "pad": 14, "color": "#0969da"},
            link={
                "source": [at[r["waits_on"]] for r in f["teams"]],
                "target": [at[r["team"]] for r in f["teams"]],
                "value": [r["dependencies"] for r in f["teams"]],
                "color": [
                    "rgba(207,34,46,0.45)" if r["critical"] else "rgba(140,149,159,0.35)"
                    for r in f["teams"]
                ],
                "customdata": [", ".join(r["tasks"]) for r in f["teams"]],
                "hovertemplate": "%{target.label} waits on %{source.label}: %{customdata}"
                "<extra></extra>",
            },
        )
    )
    fig.update_layout(title="Who waits on whom (red: on the critical path)", height=420, **_LAYOUT)
    return fig


def history_figure(history: list[dict[str, Any]]) -> go.Figure:
    """P50, P80 and P95 forecast by forecast."""
    labels = [f"{i + 1}. {h['reason']}" for i, h in enumerate(history)]
    fig = go.Figure()
    for key, colour in (("p50", "#0969da"), ("p80", "#9a6700"), ("p95", "#cf222e")):
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(history) + 1)), y=[h[key] for h in history],
                mode="lines+markers", name=key.upper(), line={"color": colour},
                text=labels, hovertemplate="%{text}<br>%{y}<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        title="How the forecast moved", height=320, yaxis={"type": "date"},
        xaxis={"title": "forecast", "dtick": 1}, **_LAYOUT,
    )  # fmt: skip
    return fig


def figures(f: dict[str, Any], history: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(id, caption, Plotly JSON) for each figure of a launch page."""
    out = [
        ("gantt", "Each task on the single-date plan (likely durations): the critical path in "
         "red, each task's float as a light bar after it, the target as a dashed line.",
         str(gantt_figure(f).to_json())),
        ("finish", "Finish dates over the Monte Carlo runs, with P50, P80, P95 and the target.",
         str(finish_figure(f).to_json())),
        ("criticality", "The tasks most often on the critical path across the runs.",
         str(criticality_figure(f).to_json())),
    ]  # fmt: skip
    if f["teams"]:
        out.append(
            ("waits", "Dependencies between teams: each flow runs from a team to the team "
             "that waits on it.", str(waits_figure(f).to_json()))
        )  # fmt: skip
    if len(history) > 1:
        out.append(
            ("history", "P50, P80 and P95 of each kept forecast, slip by slip.",
             str(history_figure(history).to_json()))
        )  # fmt: skip
    return out
