"""The portfolio as one result: what the page, ``tinylift portfolio --json`` and Python share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tinylift.portfolio.alignment import alignment
from tinylift.portfolio.health import program_health
from tinylift.portfolio.impact import cumulative_impact, holdout_check, roadmap
from tinylift.portfolio.interactions import interaction_list
from tinylift.portfolio.model import MetricInfo, Record
from tinylift.portfolio.quality import metric_quality

__all__ = ["Portfolio", "build"]


@dataclass(frozen=True)
class Portfolio:
    """Program health, the cumulative impact of what shipped and the holdout's check of it,
    who moved which shared metric, and which metrics track the OEC."""

    overall: dict[str, Any]
    by_team: list[dict[str, Any]]
    by_area: list[dict[str, Any]]
    by_quarter: list[dict[str, Any]]
    impact: list[dict[str, Any]]
    holdout: list[dict[str, Any]] = field(default_factory=list)
    alignment: dict[str, Any] = field(default_factory=dict)
    metric_quality: list[dict[str, Any]] = field(default_factory=list)
    roadmap: list[dict[str, Any]] = field(default_factory=list)
    shared_metrics: list[str] = field(default_factory=list)
    interactions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "overall": self.overall,
            "by_team": self.by_team,
            "by_area": self.by_area,
            "by_quarter": self.by_quarter,
            "impact": self.impact,
            "holdout": self.holdout,
            "alignment": self.alignment,
            "metric_quality": self.metric_quality,
            "roadmap": self.roadmap,
            "shared_metrics": self.shared_metrics,
            "interactions": self.interactions,
        }


def build(
    records: Sequence[Record],
    metrics: Sequence[MetricInfo],
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ship_alpha: float | None = None,
    fdr: float = 0.05,
    seed: int = 0,
) -> Portfolio:
    """The portfolio of these experiments (pure: the same records give the same numbers).

    ``alpha`` is the scorecards' significance level (wins, the false-positive
    risk, metric quality); ``ship_alpha`` the two-sided level an OEC gain had
    to reach to ship (the winner's-curse threshold; default ``alpha``);
    ``fdr`` the false-discovery rate of the conflict scan.
    """
    overall = program_health(records, by="all", alpha=alpha, power=power)
    impact = cumulative_impact(records, metrics, alpha=ship_alpha or alpha, seed=seed)
    return Portfolio(
        overall=overall[0] if overall else {},
        by_team=program_health(records, by="team", alpha=alpha, power=power),
        by_area=program_health(records, by="area", alpha=alpha, power=power),
        by_quarter=program_health(records, by="quarter", alpha=alpha, power=power),
        impact=impact,
        holdout=holdout_check(records, impact, alpha=alpha),
        alignment=alignment(records, metrics, alpha=fdr),
        metric_quality=metric_quality(records, metrics, alpha=alpha),
        roadmap=roadmap(records, impact, seed=seed),
        # the short list every scorecard leads with: the OEC first, then guardrails
        shared_metrics=[m.name for m in metrics if m.role == "oec"]
        + [m.name for m in metrics if m.role == "guardrail"],
        interactions=interaction_list(records),
    )
