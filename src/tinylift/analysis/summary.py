"""A refresh's quick summary per experiment: units, split, and what moved.

Lighter than a scorecard (no checks, no decision rule): what ``tinylift
refresh`` prints. The split is tested against the planned weights, and
"moved" uses the workspace's significance level.
"""

from __future__ import annotations

from typing import Any

from tinylift.analysis.plan import ExperimentPlan
from tinylift.stats import fixed_horizon, srm_test
from tinylift.stats.quantile import quantile_test
from tinylift.warehouse.contract import ExperimentStats

__all__ = ["refresh_summary"]


def refresh_summary(
    stats: ExperimentStats, plan: ExperimentPlan, *, alpha: float
) -> dict[str, Any]:
    """Units per arm, the SRM p-value against the plan, each metric's lift and p-value."""
    res: dict[str, Any] = {
        "experiment": stats.key,
        "units": dict(stats.units),
        "multi_variant_units": stats.multi_variant_units,
        "srm_p_value": None,
        "alpha": alpha,
        "metrics": [],
    }
    counts = [stats.units[v] for v in stats.variants]
    if min(counts) > 0:
        res["srm_p_value"] = srm_test(counts, list(plan.weights)).p_value
    results = [
        (name, fixed_horizon(mo, alpha=alpha, cuped=mo.has_covariate))
        for name, mo in stats.metrics.items()
        if mo.n.min() >= 2
    ] + [(name, quantile_test(qs, alpha=alpha)) for name, qs in stats.quantiles.items()]
    for name, result in results:
        for row in result.records():
            res["metrics"].append(
                {
                    "metric": name,
                    "variant": row["variant"],
                    "effect": row["effect"],
                    "rel_effect": row["rel_effect"],
                    "p_value": row["p_value"],
                    "significant": row["p_value"] is not None and row["p_value"] < alpha,
                    "flags": row["flags"],
                }
            )
    return res
