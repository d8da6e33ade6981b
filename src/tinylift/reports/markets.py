"""A market test's figures: treated markets against their counterfactual over time, the
gap and its running sum, the placebo distribution, and the synthetic control's weights
(or, for a staggered roll-out, the effect by weeks since adoption)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

__all__ = ["figures"]

_LAYOUT: dict[str, Any] = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 40},
    "plot_bgcolor": "white",
    "font": {"family": "system-ui, sans-serif", "size": 13},
}


def _paths(report: Any, log: bool) -> go.Figure:
    e = report.primary
    days = [d.isoformat() for d in report.periods]
    back = np.exp if log else (lambda x: x)
    label = "geometric mean" if log else "mean"
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=days, y=back(e.treated), name=f"treated markets ({label})",
                             line={"color": "#cf222e"}))  # fmt: skip
    fig.add_trace(go.Scatter(x=days, y=back(e.counterfactual), name="counterfactual",
                             line={"color": "#0969da", "dash": "dash"}))  # fmt: skip
    fig.add_vline(x=days[e.start], line_dash="dot", line_color="#57606a")
    fig.update_layout(title="Treated markets against what they would have done", height=360,
                      **_LAYOUT)  # fmt: skip
    return fig


def _gap(report: Any, log: bool) -> go.Figure:
    e = report.primary
    days = [d.isoformat() for d in report.periods]
    gap = np.expm1(e.gap) if log else e.gap
    fig = go.Figure()
    fig.add_trace(go.Bar(x=days, y=gap, name="gap per period", marker_color="#8c959f"))
    fig.add_vline(x=days[e.start], line_dash="dot", line_color="#57606a")
    fig.update_layout(
        title="Gap per period (relative)" if log else "Gap per period", height=300,
        yaxis={"tickformat": ".1%"} if log else {}, **_LAYOUT,
    )  # fmt: skip
    return fig


def _placebo(report: Any, log: bool) -> go.Figure:
    e = report.primary
    conv = np.expm1 if log else (lambda x: x)
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=conv(e.placebo), name="placebo markets", nbinsx=30,
                               marker_color="#8c959f"))  # fmt: skip
    fig.add_vline(x=float(conv(np.array([e.effect]))[0]), line_color="#cf222e",
                  annotation_text="the test")  # fmt: skip
    fig.update_layout(title="The estimate among placebo estimates (control markets as if "
                      "treated)", height=300, showlegend=False,
                      xaxis={"tickformat": ".1%"} if log else {}, **_LAYOUT)  # fmt: skip
    return fig


def _weights(report: Any) -> go.Figure:
    w = report.primary.weights
    order = np.argsort(w)[::-1]
    keep = [i for i in order if w[i] > 1e-4][:15]
    fig = go.Figure(go.Bar(x=[report.controls[i] for i in keep], y=[w[i] for i in keep],
                           marker_color="#0969da"))  # fmt: skip
    fig.update_layout(title="The synthetic control's markets and weights", height=300,
                      yaxis={"tickformat": ".0%"}, **_LAYOUT)  # fmt: skip
    return fig


def _event_time(report: Any, log: bool) -> go.Figure:
    r = report.rollout
    conv = np.expm1 if log else (lambda x: x)
    fig = go.Figure(go.Scatter(x=r.event_time, y=conv(r.by_event_time), mode="lines+markers",
                               line={"color": "#cf222e"}, name="Callaway-Sant'Anna"))  # fmt: skip
    naive = float(conv(np.array([report.naive.effect]))[0])
    fig.add_hline(y=naive, line_dash="dash", line_color="#57606a",
                  annotation_text="two-way fixed effects (biased)")  # fmt: skip
    fig.update_layout(title="Effect by periods since the roll-out reached a market",
                      xaxis_title="periods since adoption", height=340,
                      yaxis={"tickformat": ".1%"} if log else {}, **_LAYOUT)  # fmt: skip
    return fig


def figures(report: Any, *, log: bool) -> list[tuple[str, str, str]]:
    """(id, caption, Plotly JSON) for each figure of a market test's page."""
    if report.primary is not None:
        out = [
            ("paths", "The treated markets and their counterfactual over time; the dotted "
             "line is the start.", str(_paths(report, log).to_json())),
            ("gap", "The difference in each period.", str(_gap(report, log).to_json())),
            ("placebo", "The test's estimate (red) among the same estimate for control "
             "markets treated as if changed: how unusual it is.",
             str(_placebo(report, log).to_json())),
        ]  # fmt: skip
        if len(report.primary.weights) and not math.isnan(report.primary.weights.sum()):
            out.append(("weights", "The control markets the synthetic control is made of.",
                        str(_weights(report).to_json())))  # fmt: skip
        return out
    return [
        ("event", "The roll-out's effect by periods since it reached a market, against the "
         "single number two-way fixed effects would report.",
         str(_event_time(report, log).to_json())),
    ]  # fmt: skip
