"""Cumulative impact of what shipped, on each shared metric: naive, corrected, shrunk."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from tinylift.portfolio.model import Z95, MetricInfo, Record
from tinylift.stats.pooling import MIN_EXPERIMENTS, corrected_total, shrunk_total

__all__ = ["cumulative_impact", "holdout_check", "roadmap"]


def _money(value: float | None, per_unit: float | None) -> float | None:
    if value is None or per_unit is None or not np.isfinite(value):
        return None
    return value * per_unit


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def cumulative_impact(
    records: Sequence[Record],
    metrics: Sequence[MetricInfo],
    *,
    alpha: float = 0.05,
    seed: int = 0,
    n_boot: int = 1_000,
) -> list[dict[str, Any]]:
    """The total effect of everything shipped on each shared metric (the OEC, guardrails).

    Per metric, over the decided experiments that measured it: ``naive`` sums
    the shipped variants' estimates; ``corrected`` is Lee & Shen's total for
    the metric experiments were shipped on (their OEC), with its bootstrap
    interval; ``shrunk`` is the empirical-Bayes total (every metric: a
    posterior mean does not need the selection rule). Effects are in the
    metric's units per unit enrolled (a conversion rate's points, revenue
    per customer); ``money`` multiplies by the catalog's ``value_per_unit``.
    ``timeline`` compounds the shipped relative effects in ship order. With
    fewer than five decided experiments the corrections are not made and
    ``note`` says so.
    """
    decided = sorted(
        (r for r in records if r.is_test and r.outcome is not None),
        key=lambda r: (r.decided_at is None, r.decided_at, r.key),
    )
    out = []
    for info in metrics:
        if not info.shared:
            continue
        rows = [(r, r.row(info.name)) for r in decided]
        used = [(r, row) for r, row in rows if row is not None and row.se > 0]
        if not used:
            continue
        sign = -1.0 if info.lower_is_better else 1.0  # work in the good direction
        x = np.array([sign * row.effect for _, row in used])
        s = np.array([row.se for _, row in used])
        shipped = np.array([r.shipped for r, _ in used])
        selection_metric = all(r.oec == info.name for r, _ in used)
        entry: dict[str, Any] = {
            "metric": info.name,
            "role": info.role,
            "lower_is_better": info.lower_is_better,
            "experiments": len(used),
            "shipped": int(shipped.sum()),
            "naive": float(sign * x[shipped].sum()),
            "corrected": None,
            "shrunk": None,
            "note": None,
        }
        if len(used) < MIN_EXPERIMENTS:
            entry["note"] = (
                f"{len(used)} decided experiments measured {info.name}: too few to correct "
                f"for the winner's curse (at least {MIN_EXPERIMENTS})"
            )
        else:
            if selection_metric:
                ls = corrected_total(x, s, shipped, alpha=alpha, seed=seed, n_boot=n_boot)
                lo, hi = sorted((sign * ls.ci_low, sign * ls.ci_high))
                entry["corrected"] = {
                    "total": sign * ls.corrected,
                    "ci_low": _finite(lo),
                    "ci_high": _finite(hi),
                    "bias": sign * ls.bias,
                    "method": "Lee & Shen (2018), bias over empirical-Bayes posteriors",
                }
            eb = shrunk_total(x, s, shipped, seed=seed)
            lo, hi = sorted((sign * eb.ci_low, sign * eb.ci_high))
            entry["shrunk"] = {
                "total": sign * eb.corrected,
                "ci_low": lo,
                "ci_high": hi,
                "method": "empirical Bayes, heavy-tailed prior fitted to every decided experiment",
            }
        best = entry["corrected"] or entry["shrunk"]
        entry["money"] = {
            "value_per_unit": info.value_per_unit,
            "naive": _money(entry["naive"], info.value_per_unit),
            "corrected": _money(best["total"], info.value_per_unit) if best else None,
        }
        timeline, compounded = [], 1.0
        for r, row in used:
            if r.shipped and row.rel_effect is not None:
                compounded *= 1 + row.rel_effect
                timeline.append(
                    {
                        "experiment": r.key,
                        "team": r.team,
                        "date": r.decided_at.date().isoformat() if r.decided_at else None,
                        "effect": row.effect,
                        "rel_effect": row.rel_effect,
                        "compounded_rel": compounded - 1,
                    }
                )
        entry["timeline"] = timeline
        out.append(entry)
    return out


def holdout_check(
    records: Sequence[Record], impact: Sequence[dict[str, Any]], *, alpha: float = 0.05
) -> list[dict[str, Any]]:
    """The long-term holdout against the corrected total, metric by metric.

    The holdout's scorecard compares everyone else with the held-out units:
    its effect is what everything shipped did, measured directly. It is set
    beside the corrected total of the ships (a total of per-experiment
    effects, each on its own population and from its ship date: an
    approximation the check states). ``inside`` says whether the holdout's
    estimate lies in the corrected interval; ``flagged`` marks a difference
    the two estimates' uncertainties cannot explain (a z-test at ``alpha`` on
    the difference), so a noisy holdout does not raise false alarms. With
    nothing shipped there is nothing to check.
    """
    z = NormalDist().inv_cdf(1 - alpha / 2)
    out = []
    for h in records:
        if h.kind != "holdout" or not h.rows:
            continue
        for entry in impact:
            row = h.row(entry["metric"])
            best = entry["corrected"] or entry["shrunk"]
            if row is None or best is None or not entry["shipped"]:
                continue
            lo, hi = best["ci_low"], best["ci_high"]
            if lo is None or hi is None:
                continue
            se_total = (hi - lo) / (2 * Z95)
            diff = row.effect - best["total"]
            flagged = abs(diff) > z * math.sqrt(row.se**2 + se_total**2)
            out.append(
                {
                    "holdout": h.key,
                    "metric": entry["metric"],
                    "holdout_effect": row.effect,
                    "holdout_ci_low": row.ci_low,
                    "holdout_ci_high": row.ci_high,
                    "corrected_total": best["total"],
                    "corrected_ci_low": lo,
                    "corrected_ci_high": hi,
                    "naive_total": entry["naive"],
                    "inside": lo <= row.effect <= hi,
                    "flagged": bool(flagged),
                    "note": (
                        "the holdout and the corrected total disagree beyond their uncertainty: "
                        "shipped effects may have faded, interacted, or been overstated"
                        if flagged
                        else None
                    ),
                }
            )
    return out


def roadmap(
    records: Sequence[Record],
    impact: Sequence[dict[str, Any]],
    *,
    draws: int = 4_000,
    seed: int = 0,
    level: float = 0.8,
) -> list[dict[str, Any]]:
    """Expected impact of the planned (draft) experiments, from the program's own record.

    Per shared metric the experiments are shipped on: each planned experiment
    ships with the program's ship rate (uncertain: a Beta posterior on the
    decided ones), and a ship adds an effect drawn from the corrected effects
    of past ships (the corrected total shared out in proportion to the
    empirical-Bayes estimates). Gives the expected total and an ``level``
    interval, by simulation.
    """
    planned = [r for r in records if r.is_test and r.status == "draft"]
    decided = [r for r in records if r.is_test and r.outcome is not None]
    shipped = [r for r in decided if r.shipped]
    out = []
    rng = np.random.default_rng(seed)
    for entry in impact:
        if entry["corrected"] is None or not shipped:
            continue
        effects = np.array([t["effect"] for t in entry["timeline"]], dtype=np.float64)
        if effects.size == 0 or entry["naive"] == 0:
            continue
        scale = entry["corrected"]["total"] / entry["naive"]  # the winner's curse, taken out
        rate = rng.beta(len(shipped) + 1, len(decided) - len(shipped) + 1, size=draws)
        wins = rng.binomial(len(planned), rate)
        totals = np.array([scale * rng.choice(effects, size=k).sum() if k else 0.0 for k in wins])
        lo, hi = np.quantile(totals, [(1 - level) / 2, (1 + level) / 2])
        out.append(
            {
                "metric": entry["metric"],
                "planned": len(planned),
                "ship_rate": len(shipped) / len(decided),
                "expected_total": float(totals.mean()),
                "ci_low": float(lo),
                "ci_high": float(hi),
                "level": level,
            }
        )
    return out
