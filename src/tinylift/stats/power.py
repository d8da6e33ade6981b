"""Power planning: sample size, minimum detectable effect and runtime.

For a two-sided test at ``alpha`` with power ``1 - beta`` on a difference
whose per-unit variance is ``sigma2_c / w_c + sigma2_t / w_t`` (arms with
traffic shares ``w``)::

    n_total = (z_{1-alpha/2} + z_{1-beta})**2 * (sigma2_c / w_c + sigma2_t / w_t) / delta**2

CUPED multiplies the variances by ``1 - rho**2`` (Deng et al. 2013).
Sequential designs inflate the sample: group sequential designs by the
inflation factor of their boundaries (Jennison & Turnbull 2000, ch. 2), a
confidence sequence (tuned to the planned sample) by the ratio of its
boundary to the fixed design's critical value. Guardrails in Spotify's decision
rule (Schultzberg et al.
2024) are non-inferiority tests: one-sided at alpha, with beta divided by the
number of guardrails so that all pass together with the planned power.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize
from scipy import stats as sps

from tinylift.errors import StatsError
from tinylift.results import Result
from tinylift.stats.boundaries import Spending, crossing_probabilities, spending_boundaries
from tinylift.stats.confidence_sequences import cs_rho2

__all__ = [
    "PowerResult",
    "cs_inflation",
    "gs_inflation",
    "inflation_factor",
    "mde",
    "sample_size",
]

Design = Literal["fixed", "sequential", "group-sequential"]
MetricKind = Literal["proportion", "mean", "ratio"]


@dataclass(frozen=True, slots=True, repr=False)
class PowerResult(Result):
    """A power plan. ``n_per_variant`` is for the smallest arm's share."""

    n_per_variant: int
    n_total: int
    mde: float
    relative: bool
    baseline: float
    alpha: float
    power: float
    design: str
    days: float | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def _z(alpha: float, power: float, one_sided: bool) -> float:
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must be between 0 and 1, got {alpha}")
    if not 0 < power < 1:
        raise StatsError(f"power must be between 0 and 1, got {power}")
    za = sps.norm.isf(alpha if one_sided else alpha / 2)
    return float(za + sps.norm.isf(1 - power))


def inflation_factor(
    bounds: np.ndarray, fractions: np.ndarray, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Maximum sample of a group sequential design over the fixed design's sample."""
    fixed_drift = _z(alpha, power, one_sided=False)

    def shortfall(drift: float) -> float:
        # drift = effect / sd * sqrt(max information); power counts both sides
        return float(crossing_probabilities(bounds, fractions, drift=drift).sum() - power)

    drift = optimize.brentq(shortfall, fixed_drift * 0.5, fixed_drift * 3)
    return float((drift / fixed_drift) ** 2)


def gs_inflation(
    looks: int, *, alpha: float = 0.05, power: float = 0.8, spending: Spending = "obf"
) -> float:
    """Inflation factor of an equally spaced alpha-spending design."""
    t = np.arange(1, looks + 1) / looks
    bounds = spending_boundaries(t, alpha=alpha, spending=spending)
    return inflation_factor(bounds, t, alpha=alpha, power=power)


def cs_inflation(*, alpha: float = 0.05, power: float = 0.8) -> float:
    """Sample of a confidence sequence tuned to its planned sample, over the fixed one.

    The half-width multiplier depends on n only through ``n * rho2``, which is
    constant when the tuning equals the planned sample.
    """
    rho2 = cs_rho2(alpha, 1.0)
    nr = rho2 + 1
    mult = np.sqrt(2 * nr / rho2 * np.log(np.sqrt(nr) / alpha))
    z_beta = sps.norm.isf(1 - power)
    return float(((mult + z_beta) / _z(alpha, power, one_sided=False)) ** 2)


def _variance(kind: MetricKind, baseline: float, sd: float | None) -> float:
    if kind == "proportion":
        if not 0 < baseline < 1:
            raise StatsError(f"baseline: a proportion must be between 0 and 1, got {baseline}")
        return baseline * (1 - baseline)
    if sd is None or not sd > 0:
        raise StatsError("sd: a mean or ratio metric needs its per-unit standard deviation (> 0)")
    return sd**2


def sample_size(
    kind: MetricKind,
    *,
    baseline: float,
    mde: float,
    relative: bool = False,
    sd: float | None = None,
    sd_treatment: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    cuped_rho: float = 0.0,
    design: Design = "fixed",
    looks: int = 5,
    one_sided: bool = False,
    guardrails: int = 0,
    daily_units: float | None = None,
) -> PowerResult:
    """Units per variant to detect ``mde`` (absolute, or relative to baseline).

    ``guardrails`` > 0 plans for a non-inferiority guardrail test: one-sided,
    with beta divided by the number of guardrails (Schultzberg et al. 2024).

    Means: the treatment's standard deviation is ``sd_treatment`` when given;
    otherwise a relative MDE is taken as multiplicative (every value scaled by
    ``1 + mde``, so is the spread: revenue that grows 10 % spreads 10 % more)
    and an absolute one as additive (the same spread).

    >>> sample_size("proportion", baseline=0.1, mde=0.01).n_per_variant
    14749
    """
    for name, value in (("baseline", baseline), ("mde", mde), ("alpha", alpha), ("power", power)):
        if not np.isfinite(value):
            raise StatsError(f"{name} must be a finite number, got {value}")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise StatsError(f"alpha and power must be between 0 and 1, got {alpha}, {power}")
    if variants < 2:
        raise StatsError(f"variants must be at least 2, got {variants}")
    if not 0 <= cuped_rho < 1:
        raise StatsError(f"cuped_rho must be in [0, 1), got {cuped_rho}")
    delta = mde * baseline if relative else mde
    if not delta != 0 or not np.isfinite(delta) or abs(delta) < 1e-12 * max(abs(baseline), 1):
        raise StatsError(f"mde must be a non-zero effect the arithmetic can resolve, got {mde}")
    if guardrails:
        power = 1 - (1 - power) / guardrails
        one_sided = True
    var_c = _variance(kind, baseline, sd)
    if kind == "proportion":
        treated = baseline + delta
        if not 0 < treated < 1:
            raise StatsError(f"mde: baseline + effect = {treated} is not a proportion")
        var_t = treated * (1 - treated)
    elif sd_treatment is not None:
        if not sd_treatment > 0 or not np.isfinite(sd_treatment):
            raise StatsError(f"sd_treatment must be positive, got {sd_treatment}")
        var_t = sd_treatment**2
    else:
        var_t = var_c * (1 + mde) ** 2 if relative else var_c
    z = _z(alpha, power, one_sided)
    n = z**2 * (var_c + var_t) * (1 - cuped_rho**2) / delta**2
    if design == "group-sequential":
        n *= gs_inflation(looks, alpha=alpha, power=power)
    elif design == "sequential":
        n *= cs_inflation(alpha=alpha, power=power)
    n_per = int(np.ceil(n))
    days = None
    if daily_units is not None:
        if not daily_units > 0:
            raise StatsError(f"daily_units must be positive, got {daily_units}")
        days = float(np.ceil(n_per * variants / daily_units))
    return PowerResult(
        n_per_variant=n_per,
        n_total=n_per * variants,
        mde=mde,
        relative=relative,
        baseline=baseline,
        alpha=alpha,
        power=power,
        design=design,
        days=days,
    )


def mde(
    kind: MetricKind,
    *,
    baseline: float,
    n_per_variant: float,
    relative: bool = False,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    cuped_rho: float = 0.0,
    one_sided: bool = False,
) -> float:
    """The smallest effect detectable with ``n_per_variant`` units per arm.

    For proportions the treatment variance depends on the effect, so the
    answer solves the sample-size equation exactly.
    """
    if not n_per_variant >= 2 or not np.isfinite(n_per_variant):
        raise StatsError(f"n_per_variant must be a finite number >= 2, got {n_per_variant}")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise StatsError(f"alpha and power must be between 0 and 1, got {alpha}, {power}")
    if not np.isfinite(baseline) or (sd is not None and not np.isfinite(sd)):
        raise StatsError("baseline and sd must be finite numbers")
    z = _z(alpha, power, one_sided)
    var_c = _variance(kind, baseline, sd)
    shrink = 1 - cuped_rho**2
    if kind == "proportion":

        def gap(d: float) -> float:
            t = baseline + d
            return float(d - z * np.sqrt((var_c + t * (1 - t)) * shrink / n_per_variant))

        if gap(1e-12) >= 0:  # even the smallest effect is detectable: beyond float precision
            raise StatsError(
                f"n_per_variant = {n_per_variant:g} is beyond what the arithmetic can plan for"
            )
        d = optimize.brentq(gap, 1e-12, 1 - baseline - 1e-12)
    elif relative:
        # multiplicative, as in sample_size: the treatment's spread grows with the
        # effect r, so r b = z sqrt(var (1 + (1 + r)**2) shrink / n): a quadratic in r
        k = z**2 * var_c * shrink / n_per_variant
        b2 = baseline**2
        if not b2 > k:
            raise StatsError(
                f"n_per_variant = {n_per_variant:g} cannot detect any relative effect on a "
                f"mean of {baseline:g} with sd {sd:g}"
            )
        return float((2 * k + np.sqrt(4 * k**2 + 8 * k * (b2 - k))) / (2 * (b2 - k)))
    else:
        d = z * np.sqrt(2 * var_c * shrink / n_per_variant)
    return float(d / baseline if relative else d)
