"""Group sequential designs: planned looks with alpha spending.

Boundaries for two-sided symmetric tests at information fractions
``t_1 < ... < t_K`` come from the joint law of the z-statistics, computed by
recursive numerical integration (Armitage, McPherson, Rowe 1969; Jennison &
Turnbull 2000, ch. 19). Spending functions (Lan & DeMets 1983; Kim & DeMets
1987), for a total two-sided ``alpha``:

- ``obf``: per side ``2 - 2 Phi(z_{1-alpha/4} / sqrt(t))`` (O'Brien-Fleming type,
  each side spending alpha/2, the convention of gsDesign and ldbounds)
- ``pocock``: ``alpha log(1 + (e - 1) t)`` (Pocock type)
- ``power``: ``alpha t**rho``
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from scipy import stats as sps

from tinylift.errors import StatsError
from tinylift.stats.frequentist import _check, _flags, contrast, p_value_and_interval
from tinylift.stats.moments import Moments
from tinylift.stats.results import Comparison

__all__ = [
    "Spending",
    "constant_boundaries",
    "crossing_probabilities",
    "group_sequential",
    "spending_boundaries",
    "spent_alpha",
]

F64 = NDArray[np.float64]
Spending = Literal["obf", "pocock", "power"]

_GRID = 801  # points across each continuation region


def spent_alpha(t: ArrayLike, *, alpha: float, spending: Spending = "obf", rho: float = 3.0) -> F64:
    """Cumulative type I error spent by information fraction t (capped at 1).

    >>> round(float(spent_alpha(1.0, alpha=0.05)), 12)
    0.05
    """
    t_ = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    if spending == "obf":
        with np.errstate(divide="ignore"):
            per_side = 2 - 2 * sps.norm.cdf(sps.norm.isf(alpha / 4) / np.sqrt(t_))
            return np.where(t_ > 0, 2 * per_side, 0.0)
    if spending == "pocock":
        return alpha * np.log1p((np.e - 1) * t_)
    if spending == "power":
        if rho <= 0:
            raise StatsError(f"the power spending exponent rho must be positive, got {rho}")
        return alpha * t_**rho
    raise StatsError(f"spending must be 'obf', 'pocock' or 'power', got {spending!r}")


def _check_fractions(fractions: Sequence[float] | ArrayLike) -> F64:
    t = np.asarray(fractions, dtype=np.float64)
    if t.ndim != 1 or len(t) == 0:
        raise StatsError("information fractions must be a non-empty list")
    if (t <= 0).any() or (np.diff(t) <= 0).any():
        raise StatsError(f"information fractions must be positive and increasing, got {t.tolist()}")
    return t


class _Recursion:
    """Sub-densities of the score process S_k = B(t_k) + drift t_k on continuation regions."""

    def __init__(self, fractions: F64, drift: float = 0.0) -> None:
        self.t = fractions
        self.drift = drift
        self.grid: F64 | None = None
        self.dens: F64 | None = None

    def cross(self, k: int, b: float) -> float:
        """P(not stopped before look k, and |S_k| >= b at look k)."""
        t, mu = self.t[k], self.drift
        if k == 0:
            sd = np.sqrt(t)
            return float(sps.norm.sf(b, mu * t, sd) + sps.norm.cdf(-b, mu * t, sd))
        assert self.grid is not None
        assert self.dens is not None
        dt = t - self.t[k - 1]
        sd, m = np.sqrt(dt), self.grid + mu * dt
        inner = sps.norm.sf(b, m, sd) + sps.norm.cdf(-b, m, sd)
        return float(np.trapezoid(self.dens * inner, self.grid))

    def advance(self, k: int, b: float) -> None:
        """Move to the sub-density on the continuation region (-b, b) at look k."""
        grid = np.linspace(-b, b, _GRID)
        t, mu = self.t[k], self.drift
        if k == 0:
            dens = sps.norm.pdf(grid, mu * t, np.sqrt(t))
        else:
            assert self.grid is not None
            assert self.dens is not None
            dt = t - self.t[k - 1]
            kern = sps.norm.pdf(grid[:, None], self.grid[None, :] + mu * dt, np.sqrt(dt))
            dens = np.trapezoid(kern * self.dens[None, :], self.grid, axis=1)
        self.grid, self.dens = grid, dens


def spending_boundaries(
    fractions: Sequence[float] | ArrayLike,
    *,
    alpha: float = 0.05,
    spending: Spending = "obf",
    rho: float = 3.0,
) -> F64:
    """Two-sided z boundaries at each look for an alpha-spending design.

    Fractions above 1 (more data than planned) are treated as 1: the last
    look then spends what is left.
    """
    t = _check_fractions(fractions)
    cum = spent_alpha(np.minimum(t, 1.0), alpha=alpha, spending=spending, rho=rho)
    rec = _Recursion(t)
    bounds = np.empty(len(t))
    prev = 0.0
    for k in range(len(t)):
        target = max(cum[k] - prev, 0.0)
        sd = np.sqrt(t[k])
        if target <= 1e-15:
            z = 40.0
        else:
            z = optimize.brentq(
                lambda z, k=k, sd=sd, target=target: rec.cross(k, z * sd) - target,
                0.01,
                40.0,
                xtol=1e-10,
            )
        bounds[k] = z
        prev += rec.cross(k, z * sd)
        rec.advance(k, z * sd)
    return bounds


def crossing_probabilities(
    boundaries: ArrayLike, fractions: Sequence[float] | ArrayLike, *, drift: float = 0.0
) -> F64:
    """Probability of first crossing at each look, with ``drift`` = effect / sd per unit info."""
    t = _check_fractions(fractions)
    z = np.asarray(boundaries, dtype=np.float64)
    rec = _Recursion(t, drift)
    out = np.empty(len(t))
    for k in range(len(t)):
        b = z[k] * np.sqrt(t[k])
        out[k] = rec.cross(k, b)
        rec.advance(k, b)
    return out


def constant_boundaries(
    looks: int,
    *,
    alpha: float = 0.05,
    shape: Literal["obrien-fleming", "pocock"] = "obrien-fleming",
) -> F64:
    """Classical equally spaced designs: Pocock (constant z) or O'Brien-Fleming (C sqrt(K/k))."""
    if looks < 1:
        raise StatsError(f"looks must be at least 1, got {looks}")
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must be between 0 and 1, got {alpha}")
    t = np.arange(1, looks + 1) / looks
    scale = np.ones(looks) if shape == "pocock" else np.sqrt(looks / np.arange(1, looks + 1))

    def excess(c: float) -> float:
        return float(crossing_probabilities(c * scale, t).sum() - alpha)

    if excess(0.5) * excess(10.0) > 0:
        raise StatsError(f"no boundary for alpha = {alpha:g} over {looks} looks (try 1e-6 or more)")
    c = optimize.brentq(excess, 0.5, 10.0, xtol=1e-10)
    return np.asarray(c * scale)


def group_sequential(
    moments: Moments,
    *,
    max_n: float,
    previous_n: Sequence[float] = (),
    alpha: float = 0.05,
    spending: Spending = "obf",
    rho: float = 3.0,
    cuped: bool = False,
) -> Comparison:
    """Test at a planned look of a group sequential design.

    The information fraction of this look is the units so far over
    ``max_n`` (both arms together); ``previous_n`` are the unit counts at
    earlier looks. Intervals are repeated confidence intervals
    (estimate +- boundary x se); ``p_value`` is the nominal p-value of this
    look, and ``reject`` says whether the boundary was crossed. Looks past
    ``max_n`` are flagged: the design then spends its remaining alpha.
    """
    _check(alpha, "two-sided")
    if max_n <= 0:
        raise StatsError(f"max_n must be positive, got {max_n}")
    est = moments.arm_estimates(cuped=cuped)
    values = contrast(est)
    values.pop("df")
    n_now = float(est.n[0].sum())
    fractions = [*(n / max_n for n in previous_n), n_now / max_n]
    z = float(spending_boundaries(fractions, alpha=alpha, spending=spending, rho=rho)[-1])
    p, _, _ = p_value_and_interval(
        values["effect"], values["se"], alpha=alpha, alternative="two-sided"
    )
    values.update(
        p_value=p,
        ci_low=values["effect"] - z * values["se"],
        ci_high=values["effect"] + z * values["se"],
        rel_ci_low=values["rel_effect"] - z * values["rel_se"],
        rel_ci_high=values["rel_effect"] + z * values["rel_se"],
    )
    flags = _flags(values)
    if n_now > max_n:
        note = f"planned maximum sample exceeded ({n_now:,.0f} of {max_n:,.0f} units)"
        for idx in np.ndindex(flags.shape):
            flags[idx] = (*flags[idx], note)
    with np.errstate(divide="ignore", invalid="ignore"):
        reject = (np.abs(values["effect"] / values["se"]) >= z).astype(np.float64)
    return Comparison.of(
        moments,
        method="group-sequential",
        alpha=alpha,
        alternative="two-sided",
        values=values,
        flags=flags,
        extra={"boundary_z": np.full(values["effect"].shape, z), "reject": reject},
        info={"information_fraction": fractions[-1], "look": len(fractions)},
    )
