"""Tests on quantiles of per-unit values (e.g. the median order value per unit).

Quantiles are not sums, so they do not come as moments: the warehouse returns
each arm's n and its quantiles at ``q - delta``, ``q`` and ``q + delta``. The
variance of a sample quantile is ``q (1 - q) / (n f(Q)**2)`` (asymptotic
normality of order statistics), with the density at the quantile estimated
from the spread: ``1 / f(Q) ~ (Q(q + delta) - Q(q - delta)) / (2 delta)``
(Siddiqui 1960; Bloch & Gastwirth 1968).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tinylift.errors import StatsError
from tinylift.stats.frequentist import _check, _flags, contrast, p_value_and_interval
from tinylift.stats.moments import ArmEstimates
from tinylift.stats.results import Alternative, Comparison

__all__ = ["QuantileStats", "quantile_test"]

F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class QuantileStats:
    """One metric's per-arm quantiles: n, Q(q - delta), Q(q), Q(q + delta)."""

    metric: str
    variants: tuple[str, ...]
    q: float
    delta: float
    n: F64
    lower: F64
    value: F64
    upper: F64

    @classmethod
    def from_arrays(
        cls,
        metric: str,
        variants: Sequence[str],
        *,
        q: float,
        delta: float,
        n: ArrayLike,
        lower: ArrayLike,
        value: ArrayLike,
        upper: ArrayLike,
    ) -> QuantileStats:
        """Build and validate (names the metric and variant on bad input)."""
        if not 0 < q < 1 or not 0 < delta < min(q, 1 - q):
            raise StatsError(
                f"need 0 < q < 1 and 0 < delta < min(q, 1 - q); got {q}, {delta}", metric=metric
            )
        arrays = [np.asarray(a, dtype=np.float64) for a in (n, lower, value, upper)]
        if any(a.shape != (len(variants),) for a in arrays):
            raise StatsError("n and the quantiles need one entry per variant", metric=metric)
        n_, lo, v, hi = arrays
        for j, name in enumerate(variants):
            if n_[j] < 2:
                raise StatsError(
                    f"needs at least 2 units (n = {n_[j]:g})", metric=metric, variant=name
                )
            if not lo[j] <= v[j] <= hi[j]:
                raise StatsError(
                    "quantiles must increase with the level", metric=metric, variant=name
                )
        return cls(metric, tuple(variants), q, delta, n_, lo, v, hi)

    @property
    def var(self) -> F64:
        """Variance of each arm's sample quantile."""
        sparsity = (self.upper - self.lower) / (2 * self.delta)
        return self.q * (1 - self.q) * sparsity**2 / self.n


def quantile_test(
    stats: QuantileStats, *, alpha: float = 0.05, alternative: Alternative = "two-sided"
) -> Comparison:
    """Each treatment's quantile against control's (normal approximation)."""
    _check(alpha, alternative)
    arms = ArmEstimates(
        value=stats.value[None, :],
        var=stats.var[None, :],
        n=stats.n[None, :],
        theta=np.zeros((1, len(stats.variants))),
        rho2=None,
    )
    values = contrast(arms)
    values.pop("df")  # quantiles use the normal approximation
    p, lo, hi = p_value_and_interval(
        values["effect"], values["se"], alpha=alpha, alternative=alternative
    )
    _, rlo, rhi = p_value_and_interval(
        values["rel_effect"], values["rel_se"], alpha=alpha, alternative=alternative
    )
    values.update(p_value=p, ci_low=lo, ci_high=hi, rel_ci_low=rlo, rel_ci_high=rhi)
    # On tied values (counts, prices on a grid) the quantile sits on a mass
    # point: the spread Q(q + delta) - Q(q - delta) says nothing about the
    # density there and the test is invalid (half of A/A tests of medians of
    # counts came out significant). Such comparisons give no result, flagged.
    tied = (stats.lower == stats.value) | (stats.value == stats.upper)
    bad = (tied[0] | tied[1:])[None, :]
    for name in ("p_value", "ci_low", "ci_high", "rel_ci_low", "rel_ci_high"):
        values[name] = np.where(bad, np.nan, values[name])
    flags = _flags(values)
    for j in np.flatnonzero(bad[0]):
        flags[0, j] = (
            *flags[0, j],
            "tied values at the quantile (discrete data): no valid test; compare means instead",
        )
    return Comparison(
        method="quantile",
        metrics=(stats.metric,),
        control=stats.variants[0],
        treatments=stats.variants[1:],
        alpha=alpha,
        alternative=alternative,
        values=values,
        flags=flags,
        info={"q": stats.q, "delta": stats.delta},
    )
