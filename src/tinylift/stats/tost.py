"""Equivalence (TOST): can a result be called *flat*, not merely inconclusive?

Two one-sided tests (Schuirmann 1987): the effect is within ``(-margin,
+margin)`` when both ``H0: effect <= -margin`` and ``H0: effect >= margin``
are rejected at alpha; equivalently the (1 - 2 alpha) interval lies inside
the margins. Margins may be absolute or relative to the control value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from tinylift.errors import StatsError
from tinylift.results import Result
from tinylift.stats.frequentist import _check, contrast
from tinylift.stats.moments import Moments

__all__ = ["Equivalence", "equivalence"]

F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False, repr=False)
class Equivalence(Result):
    """TOST results, arrays shaped (metrics, treatments)."""

    metrics: tuple[str, ...]
    treatments: tuple[str, ...]
    effect: F64
    low: F64
    high: F64
    p_value: F64
    equivalent: NDArray[np.bool_]

    _repr_fields = ("metrics", "treatments", "equivalent")

    def __post_init__(self) -> None:
        for name in ("effect", "low", "high", "p_value", "equivalent"):
            view = np.asarray(getattr(self, name)).view()
            view.setflags(write=False)
            object.__setattr__(self, name, view)

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per (metric, treatment)."""
        return [self.row(m, v) for m in self.metrics for v in self.treatments]

    def to_dict(self) -> dict[str, Any]:
        """The single row as a dict, or ``{"rows": [...]}`` for several."""
        rows = self.to_dicts()
        return rows[0] if len(rows) == 1 else {"rows": rows}

    def row(self, metric: str, variant: str | None = None) -> dict[str, Any]:
        """One (metric, treatment) as a dict."""
        i = self.metrics.index(metric)
        j = 0 if variant is None else self.treatments.index(variant)
        return {
            "metric": metric,
            "variant": self.treatments[j],
            "effect": float(self.effect[i, j]),
            "low": float(self.low[i, j]),
            "high": float(self.high[i, j]),
            "p_value": float(self.p_value[i, j]),
            "equivalent": bool(self.equivalent[i, j]),
        }


def equivalence(
    moments: Moments,
    *,
    margin: float,
    relative: bool = False,
    alpha: float = 0.05,
    cuped: bool = False,
) -> Equivalence:
    """TOST of every treatment against control within ``+-margin``.

    With ``relative=True`` the margin is a share of the control value and the
    test runs on the relative effect (delta method).
    """
    _check(alpha, "two-sided")
    if not margin > 0:
        raise StatsError(f"the equivalence margin must be positive, got {margin}")
    est = moments.arm_estimates(cuped=cuped)
    v = contrast(est)
    df = v["df"] if moments.kind == "mean" and not relative else np.full_like(v["df"], np.inf)
    eff, se = (v["rel_effect"], v["rel_se"]) if relative else (v["effect"], v["se"])
    low, high = -margin, margin
    dist_df = np.where(np.isfinite(df), df, 1e12)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_low = np.where(se > 0, sps.t.sf((eff - low) / se, dist_df), (eff <= low) * 1.0)
        p_high = np.where(se > 0, sps.t.cdf((eff - high) / se, dist_df), (eff >= high) * 1.0)
    p = np.maximum(p_low, p_high)
    # an undefined effect or spread (no events at all, a zero control mean) is no
    # evidence of equivalence: 0/n against 0/n is not "equivalent within 2 %"
    p = np.where(np.isfinite(eff) & np.isfinite(se) & (se > 0), p, 1.0)
    return Equivalence(
        metrics=moments.metrics,
        treatments=moments.variants[1:],
        effect=eff,
        low=np.full_like(eff, low),
        high=np.full_like(eff, high),
        p_value=p,
        equivalent=p < alpha,
    )
