"""Who moved what: each team's net shipped effect on the shared metrics, and conflicts."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

from tinylift.portfolio.model import MetricInfo, Record
from tinylift.stats.multiple import adjust_p_values

__all__ = ["alignment"]

_N = NormalDist()


def alignment(
    records: Sequence[Record], metrics: Sequence[MetricInfo], *, alpha: float = 0.05
) -> dict[str, Any]:
    """A team × shared-metric matrix of net shipped effects, and the conflicts in it.

    ``net[t][m]`` sums team ``t``'s shipped effects on metric ``m`` (metric
    units, with the standard error of the sum). A *conflict* is a shipped
    change that significantly improved one of its team's own metrics (its OEC,
    or a metric the catalog gives to the team) while hurting another shared
    metric or guardrail; harm is a one-sided test in the metric's bad
    direction, with the Benjamini–Hochberg FDR controlled at ``alpha`` over
    every (shipped experiment, other shared metric) pair.
    """
    shared = [m for m in metrics if m.shared]
    owned: dict[str, set[str]] = defaultdict(set)
    for m in metrics:
        if m.team:
            owned[m.team].add(m.name)
    shipped = [r for r in records if r.is_test and r.shipped]
    teams = sorted({r.team for r in records if r.is_test})
    net: dict[str, dict[str, dict[str, float | int] | None]] = {}
    for team in teams:
        row: dict[str, dict[str, float | int] | None] = {}
        for m in shared:
            effects = [
                (x.effect, x.se)
                for r in shipped
                if r.team == team and (x := r.row(m.name)) is not None
            ]
            row[m.name] = (
                {
                    "effect": sum(e for e, _ in effects),
                    "se": math.sqrt(sum(s * s for _, s in effects)),
                    "shipped": len(effects),
                }
                if effects
                else None
            )
        net[team] = row
    tests: list[dict[str, Any]] = []
    for r in shipped:
        own = ({r.oec} if r.oec else set()) | owned.get(r.team, set())
        helped = [
            x.metric
            for x in r.rows
            if x.metric in own and x.verdict == "better" and x.variant == r.shipped_variant
        ]
        if not helped:
            continue
        for m in shared:
            if m.name in own:
                continue
            hit = r.row(m.name)
            if hit is None or hit.se <= 0:
                continue
            bad = -hit.effect if not m.lower_is_better else hit.effect  # > 0: harm
            tests.append(
                {
                    "experiment": r.key,
                    "team": r.team,
                    "helped": helped,
                    "hurt": m.name,
                    "effect": hit.effect,
                    "rel_effect": hit.rel_effect,
                    "p_value": 1 - _N.cdf(bad / hit.se),
                }
            )
    conflicts = []
    if tests:
        adjusted = adjust_p_values([t["p_value"] for t in tests], method="bh")
        for t, p in zip(tests, adjusted, strict=True):
            t["p_adjusted"] = float(p)
            if p < alpha:
                conflicts.append(t)
    return {
        "teams": teams,
        "metrics": [m.name for m in shared],
        "net": net,
        "conflicts": conflicts,
        "tested": len(tests),
    }
