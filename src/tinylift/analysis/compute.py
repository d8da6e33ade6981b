"""From one experiment's sufficient statistics to its scorecard.

Effects: fixed-horizon tests (Welch t / delta method), CUPED where the
metric has a pre-period covariate; secondary metrics get Holm-adjusted
p-values within the experiment (guardrails and the OEC are judged by the
decision rule, which corrects on its own). Results over time use confidence
sequences, which stay valid however often someone looks. Breakdowns adjust
p-values across segments (Holm, per dimension and metric).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
from scipy import stats as sps

from tinylift.analysis import health
from tinylift.analysis.anecdotes import anecdote_check
from tinylift.analysis.novelty import novelty_check
from tinylift.analysis.plan import ExperimentPlan, MetricRole
from tinylift.analysis.scorecard import Check, MetricRow, Scorecard
from tinylift.errors import AnalysisError, StatsError
from tinylift.stats import (
    Comparison,
    MetricEvidence,
    Moments,
    adjust_p_values,
    bayesian,
    decide,
    equivalence,
    fixed_horizon,
    sequential,
)
from tinylift.stats.confidence_sequences import DEFAULT_TUNING
from tinylift.stats.quantile import quantile_test
from tinylift.warehouse.contract import ExperimentStats

__all__ = ["build_scorecard"]


def _compare(
    mo: Moments, role: MetricRole, alpha: float, method: str, tuning: float | None
) -> tuple[Comparison, Comparison, bool]:
    cuped = mo.has_covariate
    if method == "sequential":
        # tuned to the planned sample, where the sequence is tightest (power plans assume it)
        result = sequential(mo, alpha=alpha, cuped=cuped, tuning=tuning or DEFAULT_TUNING)
    else:
        result = fixed_horizon(mo, alpha=alpha, cuped=cuped)
    bayes = bayesian(mo, alpha=alpha, cuped=cuped, lower_is_better=role.lower_is_better)
    return result, bayes, cuped


def _rows(
    stats: ExperimentStats, plan: ExperimentPlan, alpha: float, method: str
) -> list[MetricRow]:
    rows: list[MetricRow] = []
    for role in plan.metrics:
        chance: Any = None
        used = method
        try:
            if role.name in stats.quantiles:
                res, cuped = quantile_test(stats.quantiles[role.name], alpha=alpha), False
                used = "quantile"
            elif role.name in stats.metrics and stats.metrics[role.name].n.min() >= 2:
                res, bayes, cuped = _compare(
                    stats.metrics[role.name], role, alpha, method, plan.planned_units
                )
                chance = bayes.chance_to_win
            else:
                continue
        except StatsError as exc:
            rows.extend(_empty(role, v, str(exc)) for v in plan.variants[1:])
            continue
        margin = plan.flat_margin(role.name)
        flat = _flat(stats.metrics.get(role.name), res, margin, alpha, used, cuped)
        for j, rec in enumerate(res.records()):
            rows.append(
                MetricRow(
                    metric=role.name,
                    role=role.role,
                    variant=rec["variant"],
                    kind=role.kind,
                    lower_is_better=role.lower_is_better,
                    control_value=rec["control_value"],
                    treatment_value=rec["treatment_value"],
                    effect=rec["effect"],
                    ci_low=rec["ci_low"],
                    ci_high=rec["ci_high"],
                    rel_effect=rec["rel_effect"],
                    rel_ci_low=rec["rel_ci_low"],
                    rel_ci_high=rec["rel_ci_high"],
                    rel_se=rec["rel_se"],
                    p_value=rec["p_value"],
                    p_value_adjusted=rec["p_value"],
                    chance_to_win=None if chance is None else float(chance[0, j]),
                    n_control=int(rec["n_control"]),
                    n_treatment=int(rec["n_treatment"]),
                    cuped=cuped,
                    significant=rec["p_value"] is not None and rec["p_value"] < alpha,
                    flags=tuple(rec["flags"]),
                    method=used,
                    margin=margin,
                    equivalent=flat[j],
                )
            )
    return _adjust_secondary(rows, alpha)


def _flat(
    mo: Moments | None,
    res: Comparison,
    margin: float | None,
    alpha: float,
    method: str,
    cuped: bool,
) -> list[bool]:
    """Per treatment: is the effect shown to lie within +-margin (relative)?

    At the planned sample, by TOST at ``alpha`` (two one-sided tests, so the
    90 % interval for alpha 0.05 must lie inside the margin); while running,
    by the always-valid interval (conservative, and safe to peek at).
    """
    n = len(res.treatments)
    if margin is None:
        return [False] * n
    if method == "fixed" and mo is not None:
        return [
            bool(x)
            for x in equivalence(
                mo, margin=margin, relative=True, alpha=alpha, cuped=cuped
            ).equivalent[0]
        ]
    out = []
    for rec in res.records():
        lo, hi = rec["rel_ci_low"], rec["rel_ci_high"]
        out.append(lo is not None and hi is not None and -margin < lo and hi < margin)
    return out


def _empty(role: MetricRole, variant: str, why: str) -> MetricRow:
    """A row that could not be computed, saying why (e.g. no orders yet for a ratio)."""
    return MetricRow(
        metric=role.name,
        role=role.role,
        variant=variant,
        kind=role.kind,
        lower_is_better=role.lower_is_better,
        control_value=None,
        treatment_value=None,
        effect=None,
        ci_low=None,
        ci_high=None,
        rel_effect=None,
        rel_ci_low=None,
        rel_ci_high=None,
        rel_se=None,
        p_value=None,
        p_value_adjusted=None,
        chance_to_win=None,
        n_control=0,
        n_treatment=0,
        cuped=False,
        significant=False,
        flags=(why,),
    )


def _effects(
    test: Callable[..., Comparison], mo: Moments | None, alpha: float, **keys: Any
) -> list[dict[str, Any]]:
    """Compact effect rows of one test (CUPED where possible), tagged with ``keys``.

    Empty when a segment's or day's data cannot support the test (too few
    units, or a ratio whose denominator is still zero).
    """
    if mo is None or mo.n.min() < 2:
        return []
    try:
        records = test(mo, alpha=alpha, cuped=mo.has_covariate).records()
    except StatsError:
        return []
    return [
        {
            **keys,
            "variant": rec["variant"],
            "units": int(rec["n_control"] + rec["n_treatment"]),
            "n_control": int(rec["n_control"]),
            "n_treatment": int(rec["n_treatment"]),
            "effect": rec["effect"],
            "ci_low": rec["ci_low"],
            "ci_high": rec["ci_high"],
            "rel_effect": rec["rel_effect"],
            "rel_ci_low": rec["rel_ci_low"],
            "rel_ci_high": rec["rel_ci_high"],
            "p_value": rec["p_value"],
            "flags": list(rec["flags"]),
        }
        for rec in records
    ]


#: A segment needs this many units in each arm before it can be called significant.
MIN_SEGMENT_UNITS = 100


def degenerate(row: dict[str, Any]) -> list[str]:
    """Why a segment's comparison cannot be trusted (empty when it can)."""
    why = list(row.get("flags", ()))
    if min(row["n_control"], row["n_treatment"]) < MIN_SEGMENT_UNITS:
        why.append(f"fewer than {MIN_SEGMENT_UNITS} units in an arm")
    lo, hi = row.get("ci_low"), row.get("ci_high")
    if lo is None or hi is None or not hi > lo:
        why.append("no spread: the interval has no width")
    return why


def _adjust_secondary(rows: list[MetricRow], alpha: float) -> list[MetricRow]:
    idx = [i for i, r in enumerate(rows) if r.role == "secondary" and r.p_value is not None]
    if len(idx) < 2:
        return rows
    adj = adjust_p_values(np.array([rows[i].p_value for i in idx], dtype=float), "holm")
    out = list(rows)
    for i, p in zip(idx, adj, strict=True):
        out[i] = dataclasses.replace(
            rows[i], p_value_adjusted=float(p), significant=bool(p < alpha), verdict=None
        )
    return out


#: Below this many units in an arm the normal approximations behind every
#: interval are not to be trusted, so the rule gives no verdict either way.
MIN_UNITS_PER_ARM = 100


def _decisions(
    rows: list[MetricRow],
    plan: ExperimentPlan,
    srm: Any,
    alpha: float,
    complete: bool,
    units: dict[str, int],
) -> tuple[str, str | None, tuple[str, ...], dict[str, Any]]:
    treatments = plan.variants[1:]
    per: dict[str, Any] = {}
    smallest = min(units.get(v, 0) for v in plan.variants)
    if smallest < MIN_UNITS_PER_ARM:
        why = (
            f"too few units to judge: the smallest arm has {smallest:,} "
            f"(at least {MIN_UNITS_PER_ARM} are needed for trustworthy intervals)"
        )
        if complete:
            return "don't ship", None, (why, "the planned sample is reached"), per
        return "keep running", None, (why,), per
    for v in treatments:
        evidence = []
        for r in rows:
            if r.variant != v or r.effect is None or r.kind == "quantile":
                continue
            role = plan.role(r.metric)
            se = _decision_se(r, alpha)
            if se is None or not np.isfinite(se) or r.control_value is None:
                continue
            # the tests run on the absolute effect, whose size holds in both
            # directions; an undefined lift (a zero control) never drops a metric
            evidence.append(
                MetricEvidence(
                    name=r.metric,
                    role="success" if role.role == "oec" else role.role,  # type: ignore[arg-type]
                    rel_effect=np.nan if r.rel_effect is None else r.rel_effect,
                    rel_se=np.nan if r.rel_se is None else r.rel_se,
                    lower_is_better=role.lower_is_better,
                    margin=role.margin if role.role == "guardrail" else None,
                    effect=r.effect,
                    se=se,
                    control=r.control_value,
                )
            )
        if not any(e.role == "success" for e in evidence):
            raise AnalysisError(
                f"experiment {plan.key!r}: no data yet for its OEC in variant {v!r}"
            )
        # one-sided tests at alpha / 2 (the two-sided level of the intervals shown),
        # Bonferroni across treatments for A/B/n tests
        per[v] = decide(
            evidence, srm=srm, alpha=alpha / 2 / len(treatments), complete=complete
        ).to_dict()
    shipping = [v for v in treatments if per[v]["recommendation"] == "ship"]
    if shipping:
        oec = next(m.name for m in plan.metrics if m.role == "oec")

        def gain(v: str) -> float:
            row = next(r for r in rows if r.metric == oec and r.variant == v)
            lift = row.rel_effect or 0.0
            return -lift if row.lower_is_better else lift

        best = max(shipping, key=gain)
        return "ship", best, tuple(per[best]["reasons"]), per
    if all(per[v]["recommendation"] == "don't ship" for v in treatments):
        first = treatments[0]
        return "don't ship", None, tuple(per[first]["reasons"]), per
    running = next(v for v in treatments if per[v]["recommendation"] == "keep running")
    return "keep running", None, tuple(per[running]["reasons"]), per


def _oec_words(rows: list[MetricRow]) -> list[str]:
    """The OEC's verdict in the words the scorecard uses, when it did not move."""
    out = []
    for r in rows:
        if r.role != "oec" or r.verdict not in ("flat", "inconclusive"):
            continue
        variant = f" ({r.variant})" if len(rows) and r.variant != "treatment" else ""
        if r.verdict == "flat":
            assert r.margin is not None
            out.append(f"the OEC {r.metric}{variant} is flat: within ±{r.margin:.1%}")
        elif r.margin is not None:
            out.append(
                f"the OEC {r.metric}{variant} is inconclusive: neither a significant change "
                f"nor shown within ±{r.margin:.1%}"
            )
        else:
            out.append(
                f"the OEC {r.metric}{variant} is inconclusive: neither a significant change "
                "nor, with no margin or planned MDE declared, shown flat"
            )
    return out


def _decision_se(row: MetricRow, alpha: float) -> float | None:
    """The absolute standard error the decision rule should use for a row.

    The interval's half-width over the normal quantile of its level: for
    fixed-horizon rows that is the row's own standard error (Welch's t
    quantile included); for always-valid (sequential) rows it makes the rule's
    bounds the confidence sequence's bounds, so peeking at a running
    experiment cannot make it ship more often than planned.
    """
    if row.ci_low is None or row.ci_high is None:
        return None
    return (row.ci_high - row.ci_low) / 2 / float(sps.norm.isf(alpha / 2))


def _over_time(stats: ExperimentStats, plan: ExperimentPlan, alpha: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for day, moments in stats.daily:
        for role in plan.metrics:
            mo = moments.get(role.name)
            out += _effects(sequential, mo, alpha, day=day.isoformat(), metric=role.name)
    return out


def _breakdowns(stats: ExperimentStats, plan: ExperimentPlan, alpha: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for dim, segments in stats.breakdowns.items():
        for role in plan.metrics:
            family = [
                row
                for seg, moments in sorted(segments.items())
                for row in _effects(
                    fixed_horizon,
                    moments.get(role.name),
                    alpha,
                    dimension=dim,
                    segment=seg,
                    metric=role.name,
                )
            ]
            ps = [r["p_value"] if r["p_value"] is not None else 1.0 for r in family]
            for r, p in zip(family, adjust_p_values(ps, "holm") if ps else [], strict=True):
                r["p_value_adjusted"] = float(p)
                r["correction"] = "holm"
                r["flags"] = degenerate(r)
                # a degenerate cell is shown, flagged, and never called significant
                r["significant"] = bool(p < alpha) and not r["flags"]
            out.extend(family)
    # significant segments first; all of them are kept
    return sorted(out, key=lambda r: not r["significant"])


def _value(
    rows: list[MetricRow], plan: ExperimentPlan, stats: ExperimentStats, days: float
) -> list[dict[str, Any]]:
    """Money per 1,000 users and per year, for metrics with a value per unit."""
    out = []
    units = sum(stats.units.values())
    per_year = units / max(days, 1.0) * 365.0 / max(plan.traffic_share, 1e-9)
    for r in rows:
        role = plan.role(r.metric)
        if role.value_per_unit is None or r.effect is None or not np.isfinite(r.effect):
            continue
        v = role.value_per_unit
        sign = -1.0 if r.lower_is_better else 1.0
        lo, hi = r.ci_low, r.ci_high
        bounds = None if lo is None or hi is None else sorted((sign * lo, sign * hi))
        out.append(
            {
                "metric": r.metric,
                "variant": r.variant,
                "value_per_unit": v,
                "per_1000_units": sign * r.effect * v * 1000,
                "annual": sign * r.effect * v * per_year,
                "annual_low": None if bounds is None else bounds[0] * v * per_year,
                "annual_high": None if bounds is None else bounds[1] * v * per_year,
                "users_per_year": per_year,
            }
        )
    return out


def build_scorecard(
    stats: ExperimentStats,
    plan: ExperimentPlan,
    *,
    cutoff: datetime,
    alpha: float = 0.05,
    srm_alpha: float = 0.001,
) -> Scorecard:
    """Effects, health checks, novelty, anecdotes, value and the recommendation."""
    if sum(stats.units.values()) == 0:
        raise AnalysisError(f"experiment {plan.key!r} has no exposures before {cutoff:%Y-%m-%d}")
    progress = health.progress(stats, plan, cutoff=cutoff)
    complete = bool(progress.details.get("reached")) or plan.complete
    # fixed-horizon tests are valid once, at the planned sample; before it, every
    # look uses always-valid intervals so that peeking costs nothing
    rows = _rows(stats, plan, alpha, "fixed" if complete else "sequential")
    srm_check, srm = health.sample_ratio(stats, plan, threshold=srm_alpha)
    novelty, novelty_rows = novelty_check(stats, plan, alpha=alpha)
    recommendation, ship_variant, reasons, per = _decisions(
        rows, plan, srm, alpha, complete, stats.units
    )
    anecdote, anecdote_rows = anecdote_check(rows, plan)
    checks: list[Check] = [
        srm_check,
        health.multiple_exposures(stats),
        health.unplanned_variants(stats),
        health.covariate_balance(stats, threshold=srm_alpha),
        progress,
        health.in_progress(stats),
        novelty,
        anecdote,
    ]
    if novelty.status == "warn":
        reasons = (*reasons, "the effect changes with days since exposure (see novelty)")
    if recommendation != "ship":
        reasons = (*reasons, *_oec_words(rows))
    entry_days = [day for day, _ in stats.daily]
    if entry_days:
        days = float((max(entry_days) - min(entry_days)).days + 1)
    else:
        end = min(plan.end or cutoff, cutoff)
        days = max((end - (plan.start or end)).total_seconds() / 86400, 1.0)
    return Scorecard(
        experiment=plan.key,
        variants=plan.variants,
        data_cutoff=cutoff.isoformat(),
        units={v: int(stats.units.get(v, 0)) for v in plan.variants},
        rows=tuple(rows),
        checks=tuple(checks),
        recommendation=recommendation,
        ship_variant=ship_variant,
        reasons=reasons,
        decisions=per,
        over_time=tuple(_over_time(stats, plan, alpha)),
        breakdowns=tuple(_breakdowns(stats, plan, alpha)),
        novelty=tuple(novelty_rows),
        value=tuple(_value(rows, plan, stats, days)),
        anecdotes=tuple(anecdote_rows),
        alpha=alpha,
    )
