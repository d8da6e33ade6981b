"""Health checks: can this experiment's numbers be trusted, and is it done?

Each check returns a :class:`Check` with a sentence a person can act on:
sample ratio mismatch (with the segment where the split is most off),
units seen in more than one variant, progress against the planned sample,
imbalance of pre-period covariates, units in variants nobody planned.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from scipy import stats as sps

from tinylift.analysis.plan import ExperimentPlan
from tinylift.analysis.scorecard import Check
from tinylift.stats import Moments, fixed_horizon, srm_test
from tinylift.stats.srm import SrmResult
from tinylift.warehouse.contract import ExperimentStats

__all__ = [
    "covariate_balance",
    "in_progress",
    "multiple_exposures",
    "progress",
    "sample_ratio",
    "unplanned_variants",
]

#: Share of units seen in several variants above which results are suspect.
MULTI_WARN, MULTI_FAIL = 0.01, 0.05


def sample_ratio(
    stats: ExperimentStats, plan: ExperimentPlan, *, threshold: float
) -> tuple[Check, SrmResult]:
    """Chi-square test of arm sizes against the planned weights, and where it is off."""
    counts = [stats.units.get(v, 0) for v in plan.variants]
    srm = srm_test(counts, plan.weights, threshold=threshold)
    details = srm.to_dict()
    if srm.verdict == "too few units":
        return Check("srm", "info", "too few units yet to test the split", details), srm
    shares = ", ".join(
        f"{v} {c / max(sum(counts), 1):.1%} (planned {w / sum(plan.weights):.1%})"
        for v, c, w in zip(plan.variants, counts, plan.weights, strict=True)
    )
    if not srm.mismatch:
        return Check("srm", "ok", f"split as planned: {shares}", details), srm
    where = _worst_segment(stats, plan)
    if where:
        details["worst_segment"] = where
    hint = (
        f"; most off on {where['dimension']} {where['segment']} (p = {where['p_value']:.2g})"
        if where
        else ""
    )
    return (
        Check(
            "srm",
            "fail",
            f"sample ratio mismatch (p = {srm.p_value:.2g}): {shares}{hint}. The assignment "
            "or the logging is broken, so no effect can be trusted",
            details,
        ),
        srm,
    )


def _worst_segment(stats: ExperimentStats, plan: ExperimentPlan) -> dict[str, object] | None:
    worst: dict[str, object] | None = None
    for dim, segments in stats.breakdowns.items():
        for seg, moments in segments.items():
            if not moments:
                continue
            n = next(iter(moments.values())).n[0]
            res = srm_test(n, plan.weights, threshold=0.5)
            if np.isfinite(res.p_value) and (worst is None or res.p_value < worst["p_value"]):  # type: ignore[operator]
                worst = {"dimension": dim, "segment": seg, "p_value": res.p_value}
    return worst


def multiple_exposures(stats: ExperimentStats) -> Check:
    """Units seen in more than one variant: excluded, and a sign of leaky assignment."""
    multi = stats.multi_variant_units
    total = sum(stats.units.values()) + multi
    share = multi / total if total else 0.0
    details = {"units": multi, "share": share}
    text = f"{multi:,} units ({share:.2%}) were seen in more than one variant and are excluded"
    if share > MULTI_FAIL:
        return Check("multiple_exposures", "fail", text + "; assignment is leaking", details)
    if share > MULTI_WARN:
        return Check("multiple_exposures", "warn", text, details)
    return Check("multiple_exposures", "ok", text, details)


def unplanned_variants(stats: ExperimentStats) -> Check:
    """Exposures to variant keys the experiment does not declare."""
    n = stats.unplanned_variant_units
    if n:
        return Check(
            "unplanned_variants",
            "warn",
            f"{n:,} unit{'s were' if n != 1 else ' was'} exposed to variants this experiment "
            "does not declare "
            "(a typo in the code, or an old variant still live)",
            {"units": n},
        )
    return Check("unplanned_variants", "ok", "every exposure names a planned variant", {"units": 0})


def progress(stats: ExperimentStats, plan: ExperimentPlan, *, cutoff: datetime) -> Check:
    """Units and days so far against the plan."""
    units = sum(stats.units.values())
    details: dict[str, object] = {"units": units, "planned_units": plan.planned_units}
    parts, reached = [], []
    if plan.planned_units:
        parts.append(f"{units:,} of {plan.planned_units:,} planned units")
        reached.append(units >= plan.planned_units)
        details["share"] = units / plan.planned_units
    if plan.planned_days and plan.start:
        end = min(plan.end or cutoff, cutoff)
        days = max((end - plan.start).total_seconds() / 86400, 0.0)
        parts.append(f"{days:.0f} of {plan.planned_days} planned days")
        reached.append(days >= plan.planned_days - 1e-9)
        details["days"] = days
        details["planned_days"] = plan.planned_days
    if not parts:
        return Check("progress", "info", f"{units:,} units; no planned sample recorded", details)
    done = all(reached) or plan.complete
    details["reached"] = done
    text = "; ".join(parts)
    if done:
        return Check("progress", "ok", f"{text}: the planned sample is reached", details)
    return Check("progress", "info", f"{text}: still collecting", details)


def covariate_balance(stats: ExperimentStats, *, threshold: float) -> Check:
    """Pre-period values (the CUPED covariates) should not differ between arms.

    A difference before anyone saw a variant means the arms are not
    comparable (a biased split, a bug in entry dates). Bonferroni across
    the metrics tested.
    """
    tests = []
    for name, mo in stats.metrics.items():
        if not mo.has_covariate or mo.n.min() < 2:
            continue
        p = mo.s.shape[-1] // 2
        shift = None if mo.shift is None else mo.shift[..., p:]
        pre = Moments(
            mo.kind, mo.n, mo.s[..., p:], mo.ss[..., p:, p:], mo.metrics, mo.variants, shift
        )
        res = fixed_horizon(pre)
        for row in res.records():
            # degenerate comparisons (no variance, a control mean of zero) say nothing
            if row["p_value"] is not None and row["rel_effect"] is not None and not row["flags"]:
                tests.append((name, row["variant"], row["rel_effect"], row["p_value"]))
    if not tests:
        return Check("covariate_balance", "info", "no pre-period covariates to compare", {})
    name, variant, rel, p = min(tests, key=lambda t: t[3])
    p_adj = min(1.0, p * len(tests))
    details = {"metric": name, "variant": variant, "rel_difference": rel, "p_adjusted": p_adj}
    if p_adj < threshold:
        return Check(
            "covariate_balance",
            "fail",
            f"before exposure, {variant} already differed on {name} by {rel:+.2%} "
            f"(adjusted p = {p_adj:.2g}): the arms were not comparable",
            details,
        )
    z = sps.norm.isf(threshold / 2)
    return Check(
        "covariate_balance",
        "ok",
        f"pre-period values balanced across {len(tests)} comparisons (no |z| > {z:.1f})",
        details,
    )


def in_progress(stats: ExperimentStats) -> Check:
    """Units still inside a metric's window at the cutoff, left out of that metric.

    A window counts only once it has ended (GrowthBook's "exclude in-progress
    conversions"), so a late entrant never drags a metric down with half a
    window; this check says how many units wait, and for which metrics.
    """
    entered = sum(stats.units.values())
    waiting = {name: n for name, n in stats.in_progress.items() if n > 0}
    details: dict[str, object] = {"units": entered, "in_progress": waiting}
    if not waiting or entered == 0:
        return Check("in_progress", "ok", "every unit's metric windows have ended", details)
    most = max(waiting.values())
    share = most / entered
    details["share"] = share
    names = ", ".join(sorted(waiting))
    message = (
        f"{most:,} of {entered:,} units ({share:.1%}) are still inside their metric window "
        f"and are left out of {names} until it ends"
    )
    # a share under 1 % changes nothing a person would act on
    return Check("in_progress", "info" if share >= 0.01 else "ok", message, details)
