"""Always-valid inference: confidence sequences and mSPRT p-values.

Both rest on the normal mixture martingale. For an estimate with variance
``v`` and a mixing variance ``tau2`` on the effect scale, the mixture
likelihood ratio against effect ``theta0`` is (Robbins 1970; Johari, Pekelis,
Walsh 2017, eq. 11)::

    Lambda = sqrt(v / (v + tau2)) * exp(tau2 * (est - theta0)**2 / (2 v (v + tau2)))

``1 / Lambda`` (running minimum over looks) is the always-valid p-value, and
``{theta0 : Lambda < 1 / alpha}`` the confidence sequence. Parametrised by a
planned sample size ``N*`` as in Howard et al. (2021, eq. 14) and
Waudby-Smith et al. (2023, "asymptotic confidence sequences"), with
``tau2 = rho2 * sigma2`` and ``v = sigma2 / N``::

    half-width = sigma * sqrt(2 (N rho2 + 1) / (N**2 rho2) * log(sqrt(N rho2 + 1) / alpha))
    rho2 = (-2 log(alpha) + log(-2 log(alpha) + 1)) / N*

which makes the sequence tightest near ``N*`` units. GrowthBook and Eppo use
this form; the tuning default (5,000) follows GrowthBook.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tinylift.errors import StatsError
from tinylift.stats.frequentist import _check, _flags, contrast
from tinylift.stats.moments import Moments
from tinylift.stats.results import Alternative, Comparison

__all__ = [
    "DEFAULT_TUNING",
    "cs_half_width",
    "cs_rho2",
    "mixture_p_value",
    "msprt_p_values",
    "sequential",
]

F64 = NDArray[np.float64]

#: Planned total sample at which the confidence sequence is tightest.
DEFAULT_TUNING = 5_000.0


def cs_rho2(alpha: float, tuning: float) -> float:
    """The mixing parameter that optimises the boundary at ``tuning`` units."""
    if tuning <= 0:
        raise StatsError(f"the sequential tuning (planned sample) must be positive, got {tuning}")
    la = -2.0 * np.log(alpha)
    return float((la + np.log(la + 1.0)) / tuning)


def cs_half_width(
    n: ArrayLike, sigma2: ArrayLike, *, alpha: float, tuning: float = DEFAULT_TUNING
) -> F64:
    """Half-width of the two-sided asymptotic confidence sequence at n units.

    Args:
        n: units so far (for a difference of two arms, both arms together).
        sigma2: per-unit variance scale: ``var(estimate) * n``.
        alpha: the error rate over all looks, at any time.
        tuning: planned sample size at which the sequence is tightest.
    """
    n_ = np.asarray(n, dtype=np.float64)
    rho2 = cs_rho2(alpha, tuning)
    nr = n_ * rho2 + 1.0
    return np.sqrt(np.asarray(sigma2, dtype=np.float64)) * np.sqrt(
        2.0 * nr / (n_**2 * rho2) * np.log(np.sqrt(nr) / alpha)
    )


def mixture_p_value(effect: ArrayLike, var: ArrayLike, tau2: ArrayLike) -> F64:
    """``min(1, 1 / Lambda)`` of the normal mixture at one look (two-sided, theta0 = 0)."""
    e, v, t = (np.asarray(a, dtype=np.float64) for a in (effect, var, tau2))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_lambda = 0.5 * np.log(v / (v + t)) + t * e**2 / (2.0 * v * (v + t))
        p = np.exp(-log_lambda)
    p = np.where(v > 0, p, np.where(e == 0, 1.0, 0.0))
    return np.minimum(p, 1.0)


def msprt_p_values(effects: ArrayLike, variances: ArrayLike, *, tau2: float) -> F64:
    """Always-valid p-values over a sequence of looks (last axis): running minimum.

    Johari, Pekelis, Walsh (2017): p_n = min(p_{n-1}, 1 / Lambda_n).
    """
    if tau2 <= 0:
        raise StatsError(f"the mSPRT mixing variance tau2 must be positive, got {tau2}")
    return np.minimum.accumulate(mixture_p_value(effects, variances, tau2), axis=-1)


def sequential(
    moments: Moments,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    cuped: bool = False,
    tuning: float = DEFAULT_TUNING,
) -> Comparison:
    """Confidence sequences and always-valid p-values: safe to check at every look.

    One-sided alternatives use the two-sided boundary (valid, slightly
    conservative) and keep one side open.
    """
    _check(alpha, alternative)
    est = moments.arm_estimates(cuped=cuped)
    values = contrast(est)
    values.pop("df")
    n = values["n_control"] + values["n_treatment"]
    rho2 = cs_rho2(alpha, tuning)
    nr = n * rho2 + 1.0
    # half-width = multiplier * standard error, for any estimate scaled like 1/n
    mult = np.sqrt(2.0 * nr / (n * rho2) * np.log(np.sqrt(nr) / alpha))
    p = mixture_p_value(values["effect"], values["se"] ** 2, rho2 * values["se"] ** 2 * n)
    if alternative != "two-sided":
        # the one-sided p is at most the two-sided one, halved only if in the right direction
        right = values["effect"] > 0 if alternative == "greater" else values["effect"] < 0
        p = np.where(right, p, 1.0)
    out = {}
    for name, se_name, lo_name, hi_name in (
        ("effect", "se", "ci_low", "ci_high"),
        ("rel_effect", "rel_se", "rel_ci_low", "rel_ci_high"),
    ):
        with np.errstate(invalid="ignore"):  # infinite effects are flagged, not warned about
            lo = values[name] - mult * values[se_name]
            hi = values[name] + mult * values[se_name]
        if alternative == "greater":
            hi = np.full_like(hi, np.inf)
        elif alternative == "less":
            lo = np.full_like(lo, -np.inf)
        out[lo_name], out[hi_name] = lo, hi
    values.update(out, p_value=p)
    return Comparison.of(
        moments,
        method="sequential",
        alpha=alpha,
        alternative=alternative,
        values=values,
        flags=_flags(values),
        info={"tuning": tuning},
    )
