"""Sample ratio mismatch: are the observed arm sizes consistent with the plan?

A chi-square goodness-of-fit test of the units per arm against the planned
weights (Kohavi, Tang, Xu 2020, ch. 21). A mismatch means the assignment or
the logging is broken and no effect can be trusted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tinylift.errors import StatsError
from tinylift.results import Result

__all__ = ["MIN_UNITS_PER_ARM", "SrmResult", "srm_test"]

#: Below this many *expected* units in any arm the test gives no verdict.
MIN_UNITS_PER_ARM = 8

Verdict = Literal["ok", "mismatch", "too few units"]


@dataclass(frozen=True, slots=True, repr=False)
class SrmResult(Result):
    """The outcome of a sample ratio mismatch test."""

    counts: tuple[int, ...]
    expected: tuple[float, ...]
    statistic: float
    p_value: float
    threshold: float
    verdict: Verdict

    _repr_fields = ("counts", "p_value", "verdict")

    @property
    def mismatch(self) -> bool:
        """True when the split is off (p below the threshold)."""
        return self.verdict == "mismatch"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (no statistic yet: None, JSON having no NaN)."""
        return {
            "counts": list(self.counts),
            "expected": list(self.expected),
            "statistic": self.statistic if math.isfinite(self.statistic) else None,
            "p_value": self.p_value if math.isfinite(self.p_value) else None,
            "threshold": self.threshold,
            "verdict": self.verdict,
        }


def srm_test(
    counts: Sequence[float],
    weights: Sequence[float] | None = None,
    *,
    threshold: float = 0.001,
) -> SrmResult:
    """Chi-square test of arm sizes against planned weights (equal by default).

    >>> srm_test([5000, 5000]).verdict
    'ok'
    >>> srm_test([5000, 4600]).verdict
    'mismatch'
    """
    try:
        obs = [float(c) for c in counts]
        w = [1.0] * len(obs) if weights is None else [float(x) for x in weights]
    except (TypeError, ValueError):
        raise StatsError("counts and weights must be numbers") from None
    if len(obs) < 2:
        raise StatsError("counts: need the number of units in at least two arms")
    if any(c < 0 or not math.isfinite(c) for c in obs):
        raise StatsError(f"counts must be non-negative numbers, got {obs}")
    if len(w) != len(obs):
        raise StatsError(f"weights: expected {len(obs)} weights (one per arm), got {len(w)}")
    if any(x <= 0 or not math.isfinite(x) for x in w):
        raise StatsError(f"weights must be positive, got {w}")
    if not 0 < threshold < 1:
        raise StatsError(f"threshold must be between 0 and 1, got {threshold}")
    total, wsum = math.fsum(obs), math.fsum(w)
    expected = [total * x / wsum for x in w]
    # the chi-square approximation needs enough *expected* units per arm; an arm
    # that lost almost all of its units ([10000, 3]) is a mismatch, not "too few"
    if min(expected) < MIN_UNITS_PER_ARM:
        return SrmResult(
            tuple(int(c) for c in obs),
            tuple(expected),
            float("nan"),
            float("nan"),
            threshold,
            "too few units",
        )
    stat = math.fsum((o - e) ** 2 / e for o, e in zip(obs, expected, strict=True))
    p = chi2_sf(stat, len(obs) - 1)
    return SrmResult(
        tuple(int(c) for c in obs),
        tuple(expected),
        stat,
        p,
        threshold,
        "mismatch" if p < threshold else "ok",
    )


def chi2_sf(x: float, df: int) -> float:
    """Upper tail of the chi-square distribution with a whole number of degrees of freedom.

    The closed forms of the regularised upper incomplete gamma function at
    whole and half-whole shapes (Abramowitz & Stegun 26.4.4-26.4.5): a finite
    sum of Poisson terms for even ``df``, plus ``erfc`` for odd ``df``. Written
    out because ``tinylift calc srm`` must start without scipy (2 s of imports
    on a busy machine); ``tests/stats`` checks it against ``scipy.stats.chi2``.

    >>> round(chi2_sf(3.841458820694124, 1), 12)
    0.05
    """
    if df < 1:
        raise StatsError(f"degrees of freedom must be at least 1, got {df}")
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    half = x / 2.0
    log_half = math.log(half)
    if df % 2 == 0:
        # Q(m, h) = exp(-h) sum_{i<m} h^i / i!
        terms = (i * log_half - half - math.lgamma(i + 1) for i in range(df // 2))
    else:
        # Q(m + 1/2, h) = erfc(sqrt h) + exp(-h) sum_{i=1..m} h^(i-1/2) / Gamma(i + 1/2)
        terms = ((i - 0.5) * log_half - half - math.lgamma(i + 0.5) for i in range(1, df // 2 + 1))
    tail = math.fsum(math.exp(t) for t in terms)
    if df % 2:
        tail += math.erfc(math.sqrt(half))
    return min(1.0, tail)
