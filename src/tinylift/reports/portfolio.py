"""The portfolio's figures: cumulative impact with its band, team x metric, rates over time."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

__all__ = ["figures"]

_LAYOUT: dict[str, Any] = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 40},
    "height": 360,
    "plot_bgcolor": "white",
    "font": {"family": "system-ui, sans-serif", "size": 13},
}


def impact_figure(entry: dict[str, Any], holdout: dict[str, Any] | None) -> go.Figure:
    """Naive vs corrected (vs the holdout) total on one metric, with the ship-by-ship path."""
    fig = go.Figure()
    running, xs, ys, labels = 0.0, [], [], []
    for t in entry["timeline"]:
        running += t["effect"]
        xs.append(t["date"])
        ys.append(running)
        labels.append(f"{t['experiment']} ({t['team']})")
    if xs:
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="lines+markers", line={"shape": "hv", "color": "#8c959f"},
                name="naive running sum", text=labels,
                hovertemplate="%{text}<br>%{x}: %{y:+.4g}<extra></extra>",
            )
        )  # fmt: skip
    best = entry["corrected"] or entry["shrunk"]
    end = xs[-1] if xs else None
    if best is not None and end is not None:
        fig.add_trace(
            go.Scatter(
                x=[end], y=[best["total"]], mode="markers", name="corrected total",
                marker={"size": 12, "color": "#0969da", "symbol": "diamond"},
                error_y={
                    "type": "data", "symmetric": False,
                    "array": [(best["ci_high"] or best["total"]) - best["total"]],
                    "arrayminus": [best["total"] - (best["ci_low"] or best["total"])],
                },
                hovertemplate="corrected: %{y:+.4g}<extra></extra>",
            )
        )  # fmt: skip
    if holdout is not None and end is not None:
        fig.add_trace(
            go.Scatter(
                x=[end], y=[holdout["holdout_effect"]], mode="markers", name="holdout",
                marker={"size": 12, "color": "#cf222e" if holdout["flagged"] else "#1a7f37"},
                error_y={
                    "type": "data", "symmetric": False,
                    "array": [holdout["holdout_ci_high"] - holdout["holdout_effect"]],
                    "arrayminus": [holdout["holdout_effect"] - holdout["holdout_ci_low"]],
                },
                hovertemplate="holdout: %{y:+.4g}<extra></extra>",
            )
        )  # fmt: skip
    fig.add_hline(y=0, line_dash="dot", line_color="#57606a")
    fig.update_layout(
        title=f"Cumulative effect on {entry['metric']} (per unit)", showlegend=True, **_LAYOUT
    )
    return fig


def heatmap_figure(alignment: dict[str, Any]) -> go.Figure:
    """Each team's net shipped effect on each shared metric, as z-scores."""
    teams, metrics = alignment["teams"], alignment["metrics"]
    z, text = [], []
    for team in teams:
        zr: list[float | None] = []
        tr: list[str] = []
        for m in metrics:
            cell = alignment["net"][team][m]
            if cell is None or not cell["se"]:
                zr.append(None)
                tr.append("nothing shipped")
            else:
                zr.append(cell["effect"] / cell["se"])
                tr.append(f"{cell['effect']:+.4g} from {cell['shipped']} shipped")
        z.append(zr)
        text.append(tr)
    fig = go.Figure(
        go.Heatmap(
            z=z, x=metrics, y=teams, text=text, colorscale="RdBu", zmid=0,
            colorbar={"title": "z"}, hovertemplate="%{y} on %{x}: %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(title="Net shipped effect by team (z-score)", **_LAYOUT)
    return fig


def rates_figure(by_quarter: list[dict[str, Any]]) -> go.Figure:
    """Win and learning rates by quarter."""
    quarters = [q["quarter"] for q in by_quarter]
    fig = go.Figure()
    for key, name, colour in (
        ("win_rate", "win rate", "#1a7f37"),
        ("learning_rate", "learning rate", "#0969da"),
    ):
        fig.add_trace(
            go.Bar(
                x=quarters, y=[100 * (q[key] or 0) for q in by_quarter], name=name,
                marker_color=colour, hovertemplate="%{x}: %{y:.0f} %<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        title="Win and learning rates by quarter", barmode="group",
        yaxis={"ticksuffix": " %"}, **_LAYOUT,
    )  # fmt: skip
    return fig


def figures(portfolio: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, caption, Plotly JSON) for each figure of the portfolio page."""
    out = []
    holdouts = {h["metric"]: h for h in portfolio["holdout"]}
    for entry in portfolio["impact"]:
        if not entry["timeline"]:
            continue  # nothing shipped: the table says so
        fig = impact_figure(entry, holdouts.get(entry["metric"]))
        out.append(
            (
                f"impact-{entry['metric']}",
                f"The running sum of shipped effects on {entry['metric']}, the corrected "
                "total with its interval, and the holdout's direct measurement.",
                str(fig.to_json()),
            )
        )
    net = portfolio["alignment"].get("net", {})
    if any(cell is not None for row in net.values() for cell in row.values()):
        out.append(
            (
                "alignment",
                "Each team's net shipped effect on each shared metric (blue helps, red hurts).",
                str(heatmap_figure(portfolio["alignment"]).to_json()),
            )
        )
    if any(q["decided"] for q in portfolio["by_quarter"]):
        out.append(
            (
                "rates",
                "The share of decided experiments that won, and that taught something.",
                str(rates_figure(portfolio["by_quarter"]).to_json()),
            )
        )
    return out
