"""Bayesian normal-normal model on the relative lift.

The lift's estimate ``L`` with standard error ``s`` (delta method) is the
likelihood ``L ~ N(lift, s**2)``; with a prior ``lift ~ N(m0, s0**2)`` the
posterior is normal with precision ``1/s**2 + 1/s0**2``. A flat prior
(``s0 = inf``) gives the likelihood itself. Reported: chance to beat control,
the credible interval and the expected loss (risk) of each choice
(``E[max(0, -lift)]`` for shipping the treatment; GrowthBook's "risk").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from tinylift.errors import StatsError
from tinylift.stats.frequentist import _check, _flags, contrast, p_value_and_interval
from tinylift.stats.moments import Moments
from tinylift.stats.results import Comparison

__all__ = ["Prior", "bayesian", "normal_posterior"]

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Prior:
    """A normal prior on the relative lift; ``sd=None`` is flat (improper)."""

    mean: float = 0.0
    sd: float | None = None

    def __post_init__(self) -> None:
        if self.sd is not None and not self.sd > 0:
            raise StatsError(f"the prior's sd must be positive (or None for flat), got {self.sd}")


def normal_posterior(estimate: F64, se: F64, prior: Prior) -> tuple[F64, F64]:
    """Posterior mean and sd of a normal likelihood under a normal (or flat) prior."""
    if prior.sd is None:
        return estimate, se
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = 1.0 / se**2 + 1.0 / prior.sd**2
        mean = (estimate / se**2 + prior.mean / prior.sd**2) / precision
    sd = np.sqrt(1.0 / precision)
    # a zero-se estimate is certain: the prior does not move it
    return np.where(se > 0, mean, estimate), np.where(se > 0, sd, 0.0)


def _scaled_posterior(effect: F64, se: F64, prior: Prior, control: F64) -> tuple[F64, F64]:
    """Posterior of the absolute effect under the lift prior scaled by the control value."""
    assert prior.sd is not None
    scale = np.abs(control)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = 1.0 / se**2 + 1.0 / (prior.sd * scale) ** 2
        mean = (effect / se**2 + prior.mean * control / (prior.sd * scale) ** 2) / precision
    ok = (se > 0) & (scale > 0)
    return np.where(ok, mean, effect), np.where(ok, np.sqrt(1.0 / precision), se)


def _loss(mean: F64, sd: F64) -> tuple[F64, F64]:
    """E[max(0, -X)] and E[max(0, X)] for X ~ N(mean, sd)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = mean / sd
        pdf, cdf = sps.norm.pdf(z), sps.norm.cdf(z)
        treat = sd * pdf - mean * (1 - cdf)
        ctrl = sd * pdf + mean * cdf
    zero = sd == 0
    return np.where(zero, np.maximum(-mean, 0), treat), np.where(zero, np.maximum(mean, 0), ctrl)


def bayesian(
    moments: Moments,
    *,
    alpha: float = 0.05,
    prior: Prior | None = None,
    cuped: bool = False,
    lower_is_better: bool | NDArray[np.bool_] = False,
) -> Comparison:
    """Chance to win, credible intervals and risk of every treatment, on the lift.

    ``p_value`` holds the two-sided frequentist p-value for reference;
    ``ci_low/ci_high`` and ``rel_ci_*`` are (1 - alpha) credible intervals of
    the absolute and relative effects (the prior on the lift is carried to
    the absolute scale with the control's value).
    """
    _check(alpha, "two-sided")
    prior = prior or Prior()
    est = moments.arm_estimates(cuped=cuped)
    values = contrast(est)
    values.pop("df")
    post_mean, post_sd = normal_posterior(values["rel_effect"], values["rel_se"], prior)
    q = sps.norm.isf(alpha / 2)
    better = np.broadcast_to(
        np.asarray(lower_is_better)[..., None] if np.ndim(lower_is_better) else lower_is_better,
        post_mean.shape,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        p_up = np.where(post_sd > 0, sps.norm.sf(0, post_mean, post_sd), (post_mean > 0) * 1.0)
    chance = np.where(better, 1 - p_up, p_up)
    loss_treat, loss_ctrl = _loss(post_mean, post_sd)
    loss_treat, loss_ctrl = (
        np.where(better, loss_ctrl, loss_treat),
        np.where(better, loss_treat, loss_ctrl),
    )
    c = values["control_value"]
    p, _, _ = p_value_and_interval(
        values["effect"], values["se"], alpha=alpha, alternative="two-sided"
    )
    # The absolute effect gets its own posterior: the prior on the lift,
    # carried to the absolute scale with the control's value.
    if prior.sd is None:
        abs_mean, abs_sd = values["effect"], values["se"]
    else:
        abs_mean, abs_sd = _scaled_posterior(values["effect"], values["se"], prior, c)
    values.update(
        p_value=p,
        rel_effect=post_mean,
        rel_ci_low=post_mean - q * post_sd,
        rel_ci_high=post_mean + q * post_sd,
        effect=abs_mean,
        ci_low=abs_mean - q * abs_sd,
        ci_high=abs_mean + q * abs_sd,
    )
    return Comparison.of(
        moments,
        method="bayesian",
        alpha=alpha,
        alternative="two-sided",
        values=values,
        flags=_flags(values),
        extra={
            "chance_to_win": chance,
            "expected_loss": loss_treat,
            "expected_loss_control": loss_ctrl,
            "posterior_sd": post_sd,
        },
        info={"prior_mean": prior.mean, "prior_sd": prior.sd},
    )
