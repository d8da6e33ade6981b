"""A market test's scorecard: every metric's effect, in metric units and money, and the
same decision rule as a user-level experiment (the test's metric is its success metric,
guardrails must be shown non-inferior)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from tinylift.errors import DataError
from tinylift.markets.series import MarketSeries
from tinylift.markets.spec import MarketTest
from tinylift.results import Result
from tinylift.stats.decision import Decision, MetricEvidence, decide
from tinylift.stats.markets import (
    MarketEffect,
    StaggeredEffect,
    did,
    staggered,
    synthetic_control,
    twfe,
)

__all__ = ["MarketReport", "MarketRow", "analyze_market_test"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class MarketRow:
    """One metric's effect per treated market and period."""

    metric: str
    role: str
    effect: float
    low: float
    high: float
    p_value: float | None
    #: the effect relative to what the treated markets would have done without it
    relative: float
    relative_low: float
    relative_high: float
    #: the effect over every treated market-period, and in money (the test's metric)
    total: float
    money: float | None
    note: str


@dataclass(frozen=True, eq=False, repr=False)
class MarketReport(Result):
    """The scorecard of one market test."""

    key: str
    name: str
    method: str
    periods: tuple[date, ...]
    treated: tuple[str, ...]
    controls: tuple[str, ...]
    rows: tuple[MarketRow, ...]
    #: the success metric's estimate (paths, gaps, weights, placebos)
    primary: MarketEffect | None
    #: staggered roll-outs: the unbiased estimate and the naive one beside it
    rollout: StaggeredEffect | None
    naive: StaggeredEffect | None
    decision: Decision
    complete: bool
    #: log: estimates are of log values (relative lifts); level: in metric units
    scale: str = "log"

    _repr_fields = ("key", "method", "complete")

    def to_dicts(self) -> list[dict[str, Any]]:
        return [
            {
                "metric": r.metric,
                "role": r.role,
                "effect": r.effect,
                "low": r.low,
                "high": r.high,
                "p_value": r.p_value,
                "relative": r.relative,
                "relative_low": r.relative_low,
                "relative_high": r.relative_high,
                "money": r.money,
                "note": r.note,
            }
            for r in self.rows
        ]


def _cut(series: MarketSeries, test: MarketTest) -> tuple[int, bool]:
    """The index of the last period analysed, and whether the test's end is reached."""
    if test.end is None:
        return len(series.periods) - 1, False
    if test.end > series.periods[-1]:
        return len(series.periods) - 1, False
    return series.period_index(test.end), True


def analyze_market_test(
    series: MarketSeries, test: MarketTest, *, draws: int = 999, seed: int = 0
) -> MarketReport:
    """Every metric of ``test`` on ``series`` with the test's estimator, and the decision."""
    last, complete = _cut(series, test)
    roles: list[tuple[str, str, bool, float | None]] = [
        (test.metric, "success", test.lower_is_better, None)
    ]
    roles += [(g.metric, "guardrail", g.lower_is_better, g.margin) for g in test.guardrails]
    roles += [(m, "secondary", False, None) for m in test.secondary]
    treated = series.rows(test.markets)
    rows: list[MarketRow] = []
    evidence: list[MetricEvidence] = []
    primary = rollout = naive = None
    if test.staggered:
        adoption = np.full(len(series.markets), -1)
        for day, markets in test.adoption.items():
            adoption[series.rows(markets)] = series.period_index(day)
    else:
        assert test.start is not None
        start = series.period_index(test.start)
        if start > last:
            raise DataError(f"market test {test.key} starts after the last period analysed")
    for name, role, lower, margin in roles:
        raw = series.metric(name)[:, : last + 1]
        log = test.scale == "log"
        if log and not (raw > 0).all():
            m, t = np.argwhere(raw <= 0)[0]
            raise DataError(
                f"{name} is {raw[m, t]:g} in {series.markets[m]} in the week of "
                f"{series.periods[t]}: a log scale needs positive values (scale: level)",
                field=name,
            )
        y = np.log(raw) if log else raw
        if test.staggered:
            est = staggered(y, adoption, alpha=test.alpha, seed=seed)
            after = (np.arange(last + 1)[None, :] >= adoption[:, None]) & (adoption[:, None] >= 0)
            p, note = est.p_value, est.note
            effect, low, high = est.effect, est.low, est.high
            base = float(raw[adoption < 0].mean())
            if role == "success":
                rollout = est
                naive = twfe(y, adoption, alpha=test.alpha, seed=seed)
        else:
            fit = synthetic_control if test.method == "synthetic_control" else did
            e = fit(y, treated, start, alpha=test.alpha, draws=draws, seed=seed)
            after = np.zeros_like(raw, dtype=bool)
            after[treated, start:] = True
            p, note = e.p_value, e.note
            effect, low, high = e.effect, e.low, e.high
            base = float(e.counterfactual[start:].mean())
            if role == "success":
                primary = e
        cells = int(after.sum())
        actual = float(raw[after].sum())
        if log:
            # a log effect is a relative lift; in units, the share of what the treated
            # markets sold after the change that the lift accounts for
            rel, rel_lo, rel_hi = (math.expm1(v) for v in (effect, low, high))

            def units(r: float, actual: float = actual, cells: int = cells) -> float:
                return actual * (1 - 1 / (1 + r)) / cells

            row_effect, row_low, row_high = units(rel), units(rel_lo), units(rel_hi)
            se_rel = (high - low) / (2 * Z95)
        else:
            row_effect, row_low, row_high = effect, low, high
            rel = effect / base if base else math.nan
            rel_lo = low / base if base else math.nan
            rel_hi = high / base if base else math.nan
            se_rel = (high - low) / (2 * Z95 * abs(base)) if base else math.inf
        money = (
            row_effect * cells * test.value_per_unit
            if role == "success" and test.value_per_unit is not None
            else None
        )
        rows.append(
            MarketRow(
                name,
                role,
                row_effect,
                row_low,
                row_high,
                p,
                rel,
                rel_lo,
                rel_hi,
                row_effect * cells,
                money,
                note,
            )
        )
        # no p-value (a design that cannot hold its size): the metric proves nothing
        if p is None or not math.isfinite(se_rel):
            se_rel = math.inf
        if role != "secondary":
            evidence.append(
                MetricEvidence(
                    name=name,
                    role=role,  # type: ignore[arg-type]
                    rel_effect=rel,
                    rel_se=min(se_rel, 1e300),
                    lower_is_better=lower,
                    margin=margin,
                )
            )
    decision = decide(evidence, alpha=test.alpha, complete=complete)
    return MarketReport(
        key=test.key,
        name=test.name,
        method="staggered" if test.staggered else test.method,
        periods=series.periods[: last + 1],
        treated=tuple(m for m, t in zip(series.markets, treated, strict=True) if t),
        controls=tuple(m for m, t in zip(series.markets, treated, strict=True) if not t),
        rows=tuple(rows),
        primary=primary,
        rollout=rollout,
        naive=naive,
        decision=decision,
        complete=complete,
        scale=test.scale,
    )
