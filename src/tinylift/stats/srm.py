"""Sample ratio mismatch: are the observed arm sizes consistent with the plan?

A chi-square goodness-of-fit test of the units per arm against the planned
weights (Kohavi, Tang, Xu 2020, ch. 21). A mismatch means the assignment or
the logging is broken and no effect can be trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats as sps

from tinylift.errors import StatsError

__all__ = ["MIN_UNITS_PER_ARM", "SrmResult", "srm_test"]

#: Below this many units in any arm the test gives no verdict.
MIN_UNITS_PER_ARM = 8

Verdict = Literal["ok", "mismatch", "too few units"]


@dataclass(frozen=True, slots=True)
class SrmResult:
    """The outcome of a sample ratio mismatch test."""

    counts: tuple[int, ...]
    expected: tuple[float, ...]
    statistic: float
    p_value: float
    threshold: float
    verdict: Verdict

    @property
    def mismatch(self) -> bool:
        """True when the split is off (p below the threshold)."""
        return self.verdict == "mismatch"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "counts": list(self.counts),
            "expected": list(self.expected),
            "statistic": self.statistic,
            "p_value": self.p_value,
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
    obs = np.asarray(counts, dtype=np.float64)
    if obs.ndim != 1 or len(obs) < 2:
        raise StatsError("counts: need the number of units in at least two arms")
    if (obs < 0).any() or not np.isfinite(obs).all():
        raise StatsError(f"counts must be non-negative numbers, got {obs.tolist()}")
    w = np.ones_like(obs) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != obs.shape:
        raise StatsError(f"weights: expected {len(obs)} weights (one per arm), got {len(w)}")
    if (w <= 0).any() or not np.isfinite(w).all():
        raise StatsError(f"weights must be positive, got {w.tolist()}")
    if not 0 < threshold < 1:
        raise StatsError(f"threshold must be between 0 and 1, got {threshold}")
    expected = obs.sum() * w / w.sum()
    if obs.min() < MIN_UNITS_PER_ARM:
        return SrmResult(
            tuple(int(c) for c in obs),
            tuple(expected),
            float("nan"),
            float("nan"),
            threshold,
            "too few units",
        )
    stat, p = sps.chisquare(obs, expected)
    return SrmResult(
        tuple(int(c) for c in obs),
        tuple(float(e) for e in expected),
        float(stat),
        float(p),
        threshold,
        "mismatch" if p < threshold else "ok",
    )
