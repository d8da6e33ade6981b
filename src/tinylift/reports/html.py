"""One experiment's report: a self-contained HTML file with Plotly figures.

Plotly's JavaScript is embedded once in the page, so the file opens
anywhere, offline, with nothing fetched from the network.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape

from tinylift.analysis.scorecard import Scorecard

__all__ = ["effect_figure", "over_time_figure", "render_report"]

ROLE_ORDER = ("oec", "guardrail", "secondary")
ROLE_LABEL = {"oec": "OEC", "guardrail": "guardrails", "secondary": "secondary metrics"}
VERDICT_COLOUR = {
    "better": "#1a7f37",
    "worse": "#cf222e",
    "flat": "#0969da",
    "inconclusive": "#57606a",
}

_env = Environment(
    loader=PackageLoader("tinylift.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def effect_figure(card: Scorecard) -> go.Figure:
    """Relative effect and interval of every metric and treatment, grouped by role."""
    rows = sorted(
        (r for r in card.rows if r.rel_effect is not None),
        key=lambda r: (ROLE_ORDER.index(r.role), r.metric, r.variant),
        reverse=True,
    )
    multi = len(card.variants) > 2
    labels = [f"{r.metric} ({r.variant})" if multi else r.metric for r in rows]
    fig = go.Figure(
        go.Scatter(
            x=[100 * (r.rel_effect or 0.0) for r in rows],
            y=labels,
            mode="markers",
            marker={
                "size": 10,
                "color": [VERDICT_COLOUR[r.verdict or "inconclusive"] for r in rows],
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [100 * ((r.rel_ci_high or 0.0) - (r.rel_effect or 0.0)) for r in rows],
                "arrayminus": [100 * ((r.rel_effect or 0.0) - (r.rel_ci_low or 0.0)) for r in rows],
            },
            customdata=[[r.role, r.p_value] for r in rows],
            hovertemplate="%{y}: %{x:+.2f} %<br>role %{customdata[0]}, "
            "p = %{customdata[1]:.3g}<extra></extra>",
        )
    )
    fig.add_vline(x=0, line_dash="dot", line_color="#57606a")
    fig.update_layout(
        title=f"Effect on each metric, with {100 * (1 - card.alpha):.0f} % intervals",
        xaxis_title="relative effect against control (%)",
        height=120 + 32 * len(rows),
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
        template="plotly_white",
    )
    return fig


def over_time_figure(card: Scorecard, metric: str) -> go.Figure:
    """The cumulative effect by day of entry, with always-valid intervals."""
    fig = go.Figure()
    for variant in card.variants[1:]:
        pts = [r for r in card.over_time if r["metric"] == metric and r["variant"] == variant]
        days = [r["day"] for r in pts]
        eff = [None if r["rel_effect"] is None else 100 * r["rel_effect"] for r in pts]
        lo = [None if r["rel_ci_low"] is None else 100 * r["rel_ci_low"] for r in pts]
        hi = [None if r["rel_ci_high"] is None else 100 * r["rel_ci_high"] for r in pts]
        fig.add_trace(
            go.Scatter(x=days + days[::-1], y=hi + lo[::-1], fill="toself", opacity=0.2,
                       line={"width": 0}, name=f"{variant} interval", hoverinfo="skip")
        )  # fmt: skip
        fig.add_trace(go.Scatter(x=days, y=eff, mode="lines+markers", name=variant))
    fig.add_hline(y=0, line_dash="dot", line_color="#57606a")
    fig.update_layout(
        title=f"{metric}: cumulative effect over time (confidence sequence, safe to peek)",
        xaxis_title="units entered up to",
        yaxis_title="relative effect (%)",
        height=380,
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
        template="plotly_white",
    )
    return fig


def _fmt_pct(x: float | None) -> str:
    # snapshots of earlier versions may lack a number: shown as a dash
    return f"{100 * x:+.2f} %" if isinstance(x, (int, float)) else "–"


def _fmt_num(x: float | None) -> str:
    """An absolute effect, signed, to four significant digits."""
    return f"{x:+.4g}" if isinstance(x, (int, float)) else "–"


def render_report(
    card: Scorecard,
    *,
    experiment: dict[str, Any],
    anecdotes: list[dict[str, Any]] = (),  # type: ignore[assignment]
    decision: dict[str, Any] | None = None,
    snapshot: dict[str, Any] | None = None,
) -> str:
    """The report as one HTML document (Plotly embedded, no network needed)."""
    figures = [effect_figure(card)]
    tracked = [r.metric for r in card.rows if r.role in ("oec", "guardrail")]
    figures += [over_time_figure(card, m) for m in dict.fromkeys(tracked)]
    html_figs = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, fig in enumerate(figures)
    ]
    groups = [(ROLE_LABEL[role], card.rows_of(role)) for role in ROLE_ORDER if card.rows_of(role)]
    template = _env.get_template("report.html.j2")
    return template.render(
        card=card,
        experiment=experiment,
        groups=groups,
        figures=html_figs,
        anecdotes=anecdotes,
        decision=decision,
        snapshot=snapshot,
        pct=_fmt_pct,
        num=_fmt_num,
    )
