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
else *keep running*. Effects are relative (lifts) with delta-method standard
errors; margins are relative too.
"""

from __future__ import annotations

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
    rel_effect: float
    rel_se: float
    lower_is_better: bool = False
    margin: float | None = None  # relative non-inferiority margin, guardrails only

    def __post_init__(self) -> None:
        if self.role == "guardrail" and (self.margin is None or not self.margin > 0):
            raise StatsError(
                f"guardrail {self.name!r} needs a positive non-inferiority margin",
                metric=self.name,
            )
        if not self.rel_se >= 0:
            raise StatsError(f"standard error must be >= 0, got {self.rel_se}", metric=self.name)

    @property
    def good(self) -> float:
        """The effect in the direction where positive is better."""
        return -self.rel_effect if self.lower_is_better else self.rel_effect


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
        row: dict[str, Any] = {"metric": m.name, "role": m.role, "rel_effect": m.rel_effect}
        if m.role in ("success", "guardrail"):
            worse = m.good < 0 and (m.rel_se == 0 or -m.good / m.rel_se > z_det)
            row["deteriorated"] = worse
            if worse:
                deteriorated.append(m)
        if m.role == "guardrail":
            assert m.margin is not None
            bound = m.good - z_ni * m.rel_se
            row["non_inferior"] = bound > -m.margin
            row["margin"] = m.margin
            if not row["non_inferior"]:
                not_ni.append(m)
        if m.role == "success":
            better = m.good > 0 and (m.rel_se == 0 or m.good / m.rel_se > z_success)
            row["significant_improvement"] = better
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
        reasons.append(f"{m.role} metric {m.name} got significantly worse ({_pct(m.rel_effect)})")
    if deteriorated:
        return Decision("don't ship", tuple(reasons), tuple(checks))
    for m in winners:
        reasons.append(f"success metric {m.name} improved significantly ({_pct(m.rel_effect)})")
    for m in not_ni:
        assert m.margin is not None
        reasons.append(
            f"guardrail {m.name} is not yet shown to be within its margin of "
            f"{m.margin * 100:.2g} % ({_pct(m.rel_effect)})"
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
