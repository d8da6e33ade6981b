"""The risk-aware decision rule of Schultzberg, Kjellin, Rydberg (Spotify, 2024).

Ship when, and only when:

1. quality checks pass (no sample ratio mismatch);
2. no success or guardrail metric shows a significant deterioration
   (one-sided test at ``alpha_deterioration``);
3. every guardrail is shown non-inferior: the one-sided (1 - alpha) bound of
   its effect, in the good direction, is above ``-margin`` (alpha not
   corrected; the power correction is in :func:`power.sample_size`);
4. at least one success metric is significantly better, one-sided at
   ``alpha / (number of success metrics)`` (Bonferroni).

Otherwise: *don't ship* when a check failed or the planned sample is reached,
else *keep running*. Margins are relative. The tests run on the *absolute*
effect and its standard error when they are given (``effect``, ``se``,
``control``), whose size holds in both directions; a relative margin then
becomes ``margin * |control|``. The delta-method relative lift is biased by
direction at moderate samples (it over-covers on one side and under-covers
on the other), so it is used only when no absolute effect is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from scipy import stats as sps

from tinylift.errors import StatsError
from tinylift.results import Result, plain
from tinylift.stats.srm import SrmResult

__all__ = ["Decision", "MetricEvidence", "Recommendation", "decide"]

Recommendation = Literal["ship", "don't ship", "keep running"]
Role = Literal["success", "guardrail", "secondary"]


@dataclass(frozen=True, slots=True)
class MetricEvidence:
    """One metric's relative effect for the decision, with its role."""

    name: str
    role: Role
    rel_effect: float  # for the reasons; NaN when undefined (a zero control)
    rel_se: float
    lower_is_better: bool = False
    margin: float | None = None  # relative non-inferiority margin, guardrails only
    #: The absolute effect, its standard error and the control's value: when
    #: given, the tests use them (see the module docstring).
    effect: float | None = None
    se: float | None = None
    control: float | None = None

    def __post_init__(self) -> None:
        if self.role == "guardrail" and (self.margin is None or not self.margin > 0):
            raise StatsError(
                f"guardrail {self.name!r} needs a positive non-inferiority margin",
                metric=self.name,
            )
        scale_se = self.rel_se if self.se is None else self.se
        if not scale_se >= 0:
            raise StatsError(f"standard error must be >= 0, got {scale_se}", metric=self.name)
        if self.effect is not None and (self.se is None or self.control is None):
            raise StatsError("give the absolute effect with its se and the control value")

    @property
    def absolute(self) -> bool:
        """The tests run on the absolute effect."""
        return self.effect is not None

    @property
    def good(self) -> float:
        """The effect in the direction where positive is better (on the test's scale)."""
        value = self.effect if self.effect is not None else self.rel_effect
        return -value if self.lower_is_better else value

    @property
    def scale_se(self) -> float:
        """The standard error on the test's scale."""
        return self.se if self.se is not None else self.rel_se

    @property
    def scale_margin(self) -> float:
        """The non-inferiority margin on the test's scale (0 when the control is 0)."""
        assert self.margin is not None
        if self.effect is None:
            return self.margin
        return self.margin * abs(self.control or 0.0)

    def describe(self) -> str:
        """The effect for a sentence: the lift when defined, else the absolute change."""
        if math.isfinite(self.rel_effect):
            return _pct(self.rel_effect)
        value = self.effect if self.effect is not None else float("nan")
        return f"{value:+.3g} absolute; the lift is undefined"


@dataclass(frozen=True, repr=False)
class Decision(Result):
    """A recommendation with the reasons, in words, and the per-metric checks."""

    recommendation: Recommendation
    reasons: tuple[str, ...]
    checks: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "recommendation": self.recommendation,
            "reasons": list(self.reasons),
            "checks": plain(list(self.checks)),
        }


def _pct(x: float) -> str:
    return f"{x * 100:+.2f} %"


def decide(
    metrics: Sequence[MetricEvidence],
    *,
    srm: SrmResult | None = None,
    alpha: float = 0.05,
    alpha_deterioration: float | None = None,
    complete: bool = False,
) -> Decision:
    """Ship, don't ship or keep running, by the rule in the module docstring.

    Args:
        metrics: evidence for success, guardrail and secondary metrics
            (secondary metrics are reported, never decisive).
        srm: the sample ratio mismatch test, if run.
        alpha: false-positive rate for success metrics (before Bonferroni)
            and for guardrail non-inferiority.
        alpha_deterioration: for the deterioration tests; defaults to alpha.
        complete: whether the planned sample has been reached.
    """
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must be between 0 and 1, got {alpha}")
    a_det = alpha if alpha_deterioration is None else alpha_deterioration
    success = [m for m in metrics if m.role == "success"]
    guardrails = [m for m in metrics if m.role == "guardrail"]
    if not success:
        raise StatsError("the decision rule needs at least one success metric")
    z_success = sps.norm.isf(alpha / len(success))
    z_ni = sps.norm.isf(alpha)
    z_det = sps.norm.isf(a_det)

    reasons: list[str] = []
    checks: list[dict[str, Any]] = []
    deteriorated, not_ni, winners = [], [], []
    for m in metrics:
        rel = m.rel_effect if math.isfinite(m.rel_effect) else None
        row: dict[str, Any] = {"metric": m.name, "role": m.role, "rel_effect": rel}
        se = m.scale_se
        if m.absolute:
            row["effect"] = m.effect
        # no spread means no evidence either way (a degenerate comparison)
        if m.role in ("success", "guardrail"):
            worse = m.good < 0 and se > 0 and -m.good / se > z_det
            row["deteriorated"] = bool(worse)
            if worse:
                deteriorated.append(m)
        if m.role == "guardrail":
            bound = m.good - z_ni * se
            row["non_inferior"] = bool(se > 0 and bound > -m.scale_margin)
            row["margin"] = m.margin
            if not row["non_inferior"]:
                not_ni.append(m)
        if m.role == "success":
            better = m.good > 0 and se > 0 and m.good / se > z_success
            row["significant_improvement"] = bool(better)
            if better:
                winners.append(m)
        checks.append(row)

    if srm is not None and srm.mismatch:
        reasons.append(
            f"sample ratio mismatch (p = {srm.p_value:.2g}): the split is broken, "
            "so no effect can be trusted; find the cause before deciding"
        )
        return Decision("don't ship", tuple(reasons), tuple(checks))
    for m in deteriorated:
        reasons.append(f"{m.role} metric {m.name} got significantly worse ({m.describe()})")
    if deteriorated:
        return Decision("don't ship", tuple(reasons), tuple(checks))
    for m in winners:
        reasons.append(f"success metric {m.name} improved significantly ({m.describe()})")
    for m in not_ni:
        assert m.margin is not None
        zero = m.absolute and not m.control
        reasons.append(
            f"guardrail {m.name} is not yet shown to be within its margin of "
            f"{m.margin * 100:.2g} % ({m.describe()})"
            + ("; its control value is 0, so no increase at all is within it" if zero else "")
        )
    if winners and not not_ni:
        if guardrails:
            reasons.append("every guardrail is within its non-inferiority margin")
        return Decision("ship", tuple(reasons), tuple(checks))
    if not winners:
        reasons.append("no success metric improved significantly")
    if complete:
        reasons.append("the planned sample is reached")
        return Decision("don't ship", tuple(reasons), tuple(checks))
    reasons.append("the planned sample is not reached yet")
    return Decision("keep running", tuple(reasons), tuple(checks))
