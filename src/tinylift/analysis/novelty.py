"""Novelty and primacy: does the effect change with days since exposure?

Users react to anything new; an early lift that fades is not what ships.
For each per-unit mean or proportion metric the refresh also computes the
same measure over an *early* slice of its window (the first quarter) and a
*late* slice (the second half), in the same scan. The check compares the
relative lift of the two slices:

    z = (lift_early - lift_late) / sqrt(se_early^2 + se_late^2)

Ignoring the (positive) correlation of a unit's early and late values makes
the test conservative. A trend is flagged when the early lift is
significant and ``|z|`` exceeds the two-sided critical value at
``threshold`` (strict by default: many metrics are checked).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from scipy import stats as sps

from tinylift.analysis.plan import ExperimentPlan
from tinylift.analysis.scorecard import Check
from tinylift.metrics import Catalog, MeanMetric, ProportionMetric
from tinylift.metrics.model import Window
from tinylift.stats import fixed_horizon
from tinylift.warehouse.contract import ExperimentStats

__all__ = ["SLICES", "novelty_check", "with_slices"]

SLICES: Final = ("early", "late")


def _slices(window: Window) -> dict[str, Window]:
    length = window.end_days - window.start_days
    early = max(1, length // 4)
    late = window.start_days + length // 2
    return {
        "early": Window(start_days=window.start_days, end_days=window.start_days + early),
        "late": Window(start_days=late, end_days=window.end_days),
    }


def slice_name(metric: str, part: str) -> str:
    """The derived metric holding one slice of a metric's window."""
    return f"{metric}__{part}"


def with_slices(catalog: Catalog, plans: Sequence[ExperimentPlan]) -> tuple[Catalog, list[str]]:
    """The catalog plus early/late slices of every mean and proportion metric the plans use."""
    extra: dict[str, Any] = {}
    for plan in plans:
        for role in plan.metrics:
            m = catalog.get(role.name)
            if not isinstance(m, (MeanMetric, ProportionMetric)) or m.window.end_days < 4:
                continue
            for part, window in _slices(m.window).items():
                name = slice_name(m.name, part)
                extra[name] = m.model_copy(
                    update={"name": name, "window": window, "cuped": None, "cap": None}
                    if isinstance(m, MeanMetric)
                    else {"name": name, "window": window, "cuped": None}
                )
    if not extra:
        return catalog, []
    merged = dataclasses.replace(catalog, metrics={**catalog.metrics, **extra})
    return merged, list(extra)


def novelty_check(
    stats: ExperimentStats,
    plan: ExperimentPlan,
    *,
    alpha: float,
    threshold: float = 0.001,
) -> tuple[Check, list[dict[str, Any]]]:
    """Compare early and late lifts of each metric; flag trends that are clearly there."""
    z_crit = float(sps.norm.isf(threshold / 2))
    z_sig = float(sps.norm.isf(alpha / 2))
    rows: list[dict[str, Any]] = []
    for role in plan.metrics:
        early = stats.metrics.get(slice_name(role.name, "early"))
        late = stats.metrics.get(slice_name(role.name, "late"))
        if early is None or late is None or early.n.min() < 2 or late.n.min() < 2:
            # a slice no unit has reached yet (a young experiment): nothing to compare
            continue
        e, lt = fixed_horizon(early), fixed_horizon(late)
        for j, variant in enumerate(e.treatments):
            re, se_e = float(e.rel_effect[0, j]), float(e.rel_se[0, j])
            rl, se_l = float(lt.rel_effect[0, j]), float(lt.rel_se[0, j])
            if not all(np.isfinite([re, se_e, rl, se_l])) or se_e + se_l == 0:
                continue
            z = (re - rl) / float(np.hypot(se_e, se_l))
            flagged = abs(re) > z_sig * se_e and abs(z) > z_crit
            trend = "fading" if abs(re) > abs(rl) else "growing"
            rows.append(
                {
                    "metric": role.name,
                    "variant": variant,
                    "early_rel_effect": re,
                    "early_rel_se": se_e,
                    "late_rel_effect": rl,
                    "late_rel_se": se_l,
                    "z": z,
                    "trend": trend,
                    "flagged": bool(flagged),
                }
            )
    hits = [r for r in rows if r["flagged"]]
    if not rows:
        return Check("novelty", "info", "no metric long enough to look for a trend", {}), rows
    if not hits:
        return (
            Check(
                "novelty",
                "ok",
                f"no change of effect with days since exposure ({len(rows)} metric comparisons)",
                {},
            ),
            rows,
        )
    words = "; ".join(
        f"{r['metric']} ({r['variant']}) {r['trend']}: {r['early_rel_effect']:+.1%} in the "
        f"first days, {r['late_rel_effect']:+.1%} later"
        for r in hits
    )
    kind = "a novelty effect" if any(r["trend"] == "fading" for r in hits) else "a primacy effect"
    return (
        Check(
            "novelty",
            "warn",
            f"{kind}: {words}. Judge the experiment on the later effect",
            {"metrics": [r["metric"] for r in hits]},
        ),
        rows,
    )
