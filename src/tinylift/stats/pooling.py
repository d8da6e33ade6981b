"""Pooling many experiments: winner's-curse correction, empirical Bayes, program risk.

Each experiment ``i`` gives an estimate ``x_i`` of its true effect ``a_i`` with
standard error ``s_i``. Shipping the significant winners selects estimates
that are too high (the winner's curse), so the naive total of shipped
effects overstates what they add up to. Two corrections:

- :func:`corrected_total`: Lee & Shen (2018). Selecting ``x_i > b_i``
  biases the selected total by ``Σ s_i φ((b_i - a_i)/s_i)`` summed over *all*
  experiments; the plug-in ``a_i ≈ x_i`` estimates it. The interval comes
  from a parametric bootstrap of the whole program (draw every experiment
  again around a shrunken estimate of its effect, select, correct) and
  covers the true total of what was shipped at its nominal rate (checked by
  simulation in ``tests/stats/test_pooling.py``).
- :func:`shrink`: empirical Bayes across experiments. The prior is fitted to
  *all* decided experiments (selection does not bias a posterior mean whose
  prior is right): a normal prior by REML, or a heavy-tailed scale mixture
  of normals around the REML mean fitted by EM on a grid of scales (after
  the adaptive shrinkage prior of Stephens, 2017), which leaves large
  effects nearly untouched and pulls small noisy ones in.

:func:`false_positive_risk` is Kohavi, Deng & Vermeer (2022): from a
program's win rate, α and power, the share of its wins that are false.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from tinylift.errors import ConfigError

__all__ = [
    "MIN_EXPERIMENTS",
    "Shrinkage",
    "TotalEstimate",
    "compound",
    "corrected_total",
    "false_positive_risk",
    "selection_bias",
    "shrink",
    "shrunk_total",
]

#: Fewer decided experiments than this and pooling says so instead of shrinking.
MIN_EXPERIMENTS = 5

F64 = NDArray[np.float64]


def _arrays(estimates: ArrayLike, ses: ArrayLike) -> tuple[F64, F64]:
    x = np.asarray(estimates, dtype=np.float64).ravel()
    s = np.asarray(ses, dtype=np.float64).ravel()
    if x.shape != s.shape:
        raise ConfigError(f"{len(x)} estimates but {len(s)} standard errors", parameter="ses")
    if not (np.isfinite(x).all() and np.isfinite(s).all()) or (s <= 0).any():
        raise ConfigError(
            "estimates must be finite and standard errors finite and positive", parameter="ses"
        )
    return x, s


def selection_bias(estimates: ArrayLike, ses: ArrayLike, thresholds: ArrayLike) -> F64:
    """Each experiment's expected share of the winner's curse, ``s φ((b - a)/s)``.

    Evaluated at ``a = x`` (Lee & Shen's plug-in). Summed over every
    experiment, it estimates how much the total of those with ``x > b``
    overstates their true total.
    """
    x, s = _arrays(estimates, ses)
    b = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), x.shape)
    return np.asarray(s * stats.norm.pdf((b - x) / s), dtype=np.float64)


@dataclass(frozen=True)
class TotalEstimate:
    """The total true effect of the selected (shipped) experiments."""

    naive: float
    corrected: float
    ci_low: float
    ci_high: float
    bias: float
    selected: int
    experiments: int
    level: float

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _npdf(x: F64, var: F64) -> F64:
    return np.asarray(np.exp(-0.5 * x * x / var) / np.sqrt(2 * np.pi * var), dtype=np.float64)


def _components(
    x: F64, s: F64, scales: F64, weights: F64, centre: float = 0.0
) -> tuple[F64, F64, F64]:
    """Posterior responsibilities, means and variances per mixture component.

    ``x`` may carry leading axes (bootstrap draws) before the experiments'.
    """
    total = s[:, None] ** 2 + scales**2
    dens = _npdf(x[..., None] - centre, total) * weights
    resp = dens / np.maximum(dens.sum(axis=-1, keepdims=True), 1e-300)
    factor = scales**2 / total
    return resp, centre + factor * (x[..., None] - centre), factor * s[:, None] ** 2


def _expected_bias(x: F64, s: F64, b: F64, prior: tuple[F64, F64, float]) -> F64:
    """Σ E[s φ((b - a)/s) | x] under the fitted prior (per leading draw)."""
    resp, mean, var = _components(x, s, *prior)
    per = s**2 * (resp * _npdf(b[:, None] - mean, s[:, None] ** 2 + var)).sum(axis=-1)
    return np.asarray(per.sum(axis=-1), dtype=np.float64)


def _bias_of_draws(xb: F64, s: F64, b: F64, prior: tuple[F64, F64, float], points: int = 65) -> F64:
    """:func:`_expected_bias` of many bootstrap draws ``xb`` (draws x experiments).

    Each experiment's term is a smooth function of its own estimate alone, so
    it is tabulated once per experiment on ``points`` evenly spaced estimates
    across the draws' range (in single precision) and read off by linear
    interpolation: the same totals to about 1e-5, for a small part of the work.
    """
    scales, weights, centre = prior
    lo, hi = xb.min(axis=0), xb.max(axis=0)
    step = np.maximum(hi - lo, 1e-12 * s) / (points - 1)
    f32 = np.float32
    s2 = (s**2)[:, None]
    total = s2 + scales**2  # experiments x components, as in _components
    shrink = scales**2 / total
    after = s2 + shrink * s2  # the estimate's variance given a draw from the posterior
    weight = (weights / np.sqrt(2 * np.pi * total)).astype(f32)
    norm = (1 / np.sqrt(2 * np.pi * after)).astype(f32)
    d = (lo - centre)[None, :] + step[None, :] * np.arange(points)[:, None]  # points x exps
    d3 = d.astype(f32)[:, :, None]
    dens = np.exp(f32(-0.5) * d3 * d3 / total.astype(f32)) * weight
    gap = (centre - b)[:, None].astype(f32) + shrink.astype(f32) * d3
    phi = np.exp(f32(-0.5) * gap * gap / after.astype(f32)) * norm
    table = (s**2 * (dens * phi).sum(axis=-1) / np.maximum(dens.sum(axis=-1), 1e-30)).astype(
        np.float64
    )
    pos = (xb - lo) / step  # within [0, points - 1] by construction
    at = np.minimum(pos.astype(np.int32), points - 2)
    frac = pos - at
    flat = at * xb.shape[1] + np.arange(xb.shape[1], dtype=np.int32)  # row-major index
    below, above = np.take(table, flat), np.take(table, flat + xb.shape[1])
    return np.asarray((below + (above - below) * frac).sum(axis=1), dtype=np.float64)


def corrected_total(
    estimates: ArrayLike,
    ses: ArrayLike,
    selected: ArrayLike,
    *,
    thresholds: ArrayLike | None = None,
    alpha: float = 0.05,
    level: float = 0.95,
    n_boot: int = 1_000,
    seed: int = 0,
) -> TotalEstimate:
    """Lee & Shen's bias-corrected total of the selected experiments, with an interval.

    Args:
        estimates, ses: every decided experiment's effect estimate and standard
            error (one metric, in its units), shipped or not.
        selected: which were shipped.
        thresholds: the estimate above which each would have been shipped;
            default the two-sided ``alpha`` significance bound ``z s``.
        level: the interval's coverage.
        n_boot: bootstrap programs.

    The bias ``Σ s φ((b - a)/s)`` is taken in expectation over each true
    effect's empirical-Bayes posterior (a heavy-tailed prior fitted to all the
    experiments), not at ``a = x``: the plain plug-in counts every null
    experiment's chance to cross the bar about twice and over-corrects. The
    interval is a parametric bootstrap of the estimator's error: true effects
    drawn from their posteriors, estimates drawn around them, selected by
    the thresholds and corrected, against the drawn selection's true total.
    """
    x, s = _arrays(estimates, ses)
    chosen = np.asarray(selected, dtype=bool).ravel()
    if chosen.shape != x.shape:
        raise ConfigError("one selected flag per estimate", parameter="selected")
    z = stats.norm.ppf(1 - alpha / 2)
    b = (
        np.broadcast_to(np.asarray(thresholds, dtype=np.float64), x.shape).copy()
        if thresholds is not None
        else z * s
    )
    naive = float(x[chosen].sum())
    n = len(x)
    if n < MIN_EXPERIMENTS:
        return TotalEstimate(naive, np.nan, np.nan, np.nan, np.nan, int(chosen.sum()), n, level)
    if not chosen.any():  # nothing shipped: its total is exactly nothing
        return TotalEstimate(0.0, 0.0, 0.0, 0.0, 0.0, 0, n, level)
    prior = _mixture(x, s)
    bias = float(_expected_bias(x, s, b, prior))
    corrected = naive - bias
    rng = np.random.default_rng(seed)
    truth = _posterior_draws(x, s, prior, rng, n_boot)
    xb = truth + s * rng.standard_normal((n_boot, n))
    pick = xb > b
    est = np.where(pick, xb, 0.0).sum(axis=1) - _bias_of_draws(xb, s, b, prior)
    errors = est - np.where(pick, truth, 0.0).sum(axis=1)
    upper, lower = np.quantile(errors, [(1 + level) / 2, (1 - level) / 2])
    return TotalEstimate(
        naive, corrected, corrected - float(upper), corrected - float(lower), bias,
        int(chosen.sum()), n, level,
    )  # fmt: skip


def _posterior_draws(
    x: F64, s: F64, prior: tuple[F64, F64, float], rng: np.random.Generator, m: int
) -> F64:
    """``m`` draws of every experiment's true effect from its posterior."""
    resp, mean, var = _components(x, s, *prior)
    cum = resp.cumsum(axis=-1)
    last = len(prior[0]) - 1
    k = np.minimum((rng.random((m, len(x)))[:, :, None] > cum[None]).sum(axis=2), last)
    idx = np.arange(len(x))
    return np.asarray(
        mean[idx, k] + np.sqrt(var[idx, k]) * rng.standard_normal((m, len(x))), dtype=np.float64
    )


def shrunk_total(
    estimates: ArrayLike,
    ses: ArrayLike,
    selected: ArrayLike,
    *,
    level: float = 0.95,
    n_draws: int = 2_000,
    seed: int = 0,
) -> TotalEstimate:
    """The selected experiments' total under empirical-Bayes posteriors, with an interval.

    The heavy-tailed prior is fitted to every experiment given (shipped or
    not); the total is the sum of the selected ones' posterior means and the
    interval comes from joint posterior draws. ``bias`` is naive minus total.
    """
    x, s = _arrays(estimates, ses)
    chosen = np.asarray(selected, dtype=bool).ravel()
    naive = float(x[chosen].sum())
    n = len(x)
    if n < MIN_EXPERIMENTS:
        return TotalEstimate(naive, np.nan, np.nan, np.nan, np.nan, int(chosen.sum()), n, level)
    prior = _mixture(x, s)
    resp, mean_k, _ = _components(x, s, *prior)
    total = float((resp * mean_k).sum(axis=1)[chosen].sum())
    draws = _posterior_draws(x[chosen], s[chosen], prior, np.random.default_rng(seed), n_draws)
    lo, hi = np.quantile(draws.sum(axis=1), [(1 - level) / 2, (1 + level) / 2])
    return TotalEstimate(
        naive, total, float(lo), float(hi), naive - total, int(chosen.sum()), n, level
    )


@dataclass(frozen=True)
class Shrinkage:
    """Empirical-Bayes posteriors of many experiments' true effects."""

    prior: Literal["normal", "mixture"]
    posterior_mean: F64
    posterior_sd: F64
    #: normal: (mean, sd); mixture: the grid of scales and their weights
    prior_mean: float
    prior_scales: F64
    prior_weights: F64


def _reml_tau2(x: F64, s: F64) -> tuple[float, float]:
    """A normal prior N(mu, tau^2) by restricted maximum likelihood."""
    v = s**2

    def neg_restricted_loglik(log_tau2: float) -> float:
        w = 1 / (v + np.exp(log_tau2))
        mu = (w * x).sum() / w.sum()
        return float(0.5 * (np.log(1 / w).sum() + np.log(w.sum()) + (w * (x - mu) ** 2).sum()))

    scale = float(np.var(x) + v.mean() + 1e-300)
    res = optimize.minimize_scalar(
        neg_restricted_loglik, bounds=(np.log(scale) - 30, np.log(scale) + 5), method="bounded"
    )
    tau2 = float(np.exp(res.x))
    if tau2 < 1e-8 * v.mean():
        tau2 = 0.0
    w = 1 / (v + tau2)
    return float((w * x).sum() / w.sum()), tau2


def _mixture(x: F64, s: F64, iterations: int = 500) -> tuple[F64, F64, float]:
    """A scale mixture of normals on a grid around the REML mean: scales, weights, centre.

    The weights are fitted by EM (maximum likelihood).
    """
    centre, _ = _reml_tau2(x, s)
    d = x - centre
    smin = float(s.min()) / 10
    smax = 2 * float(np.sqrt(max((d**2 - s**2).max(), s.min() ** 2)))
    scales = np.concatenate([[0.0], np.geomspace(smin, max(smax, smin * 2), 20)])
    dens = _npdf(d[:, None], s[:, None] ** 2 + scales[None, :] ** 2)
    weights = np.full(len(scales), 1 / len(scales))
    dens_t = np.ascontiguousarray(dens.T)
    for _ in range(iterations):  # the maximum-likelihood mixing weights
        # EM: w_k <- w_k * mean_i(dens_ik / sum_j dens_ij w_j), as two matrix-vector products
        likelihood = np.maximum(dens @ weights, 1e-300)
        new = weights * (dens_t @ (1.0 / likelihood)) / len(d)
        new /= new.sum()
        if np.abs(new - weights).max() < 1e-8:
            weights = new
            break
        weights = new
    keep = weights > 1e-8  # components the data gave no weight cost time, not accuracy
    return scales[keep], weights[keep] / weights[keep].sum(), centre


def shrink(
    estimates: ArrayLike, ses: ArrayLike, *, prior: Literal["normal", "mixture"] = "mixture"
) -> Shrinkage:
    """Posterior means and sds of each experiment's true effect under a fitted prior.

    ``normal``: N(mu, tau^2) fitted by REML (James–Stein-like). ``mixture``: a
    heavy-tailed prior, a scale mixture of normals centred at the REML mean.

    >>> r = shrink([0.0, 0.3, -0.1, 2.0, 0.05, -0.02], [0.1] * 6)
    >>> [round(float(m), 2) for m in r.posterior_mean]  # the small ones draw together
    [0.02, 0.3, -0.07, 1.99, 0.07, 0.0]
    """
    x, s = _arrays(estimates, ses)
    if prior == "normal":
        mu, tau2 = _reml_tau2(x, s)
        b = tau2 / (tau2 + s**2)
        return Shrinkage(
            "normal", mu + b * (x - mu), np.sqrt(b * s**2), mu,
            np.array([np.sqrt(tau2)]), np.array([1.0]),
        )  # fmt: skip
    scales, weights, centre = _mixture(x, s)
    resp, mean_k, var_k = _components(x, s, scales, weights, centre)
    mean = (resp * mean_k).sum(axis=1)
    var = (resp * (var_k + mean_k**2)).sum(axis=1) - mean**2
    return Shrinkage("mixture", mean, np.sqrt(np.maximum(var, 0.0)), centre, scales, weights)


def false_positive_risk(
    wins: int, experiments: int, *, alpha: float = 0.05, power: float = 0.8
) -> dict[str, float]:
    """The share of a program's wins that are false (Kohavi, Deng & Vermeer, 2022).

    A win is significant in the good direction (rate ``alpha / 2`` when nothing
    works). From the win rate ``w = alpha/2 * pi + power * (1 - pi)`` the share
    ``pi`` of ideas that do nothing follows, then ``FPR = alpha/2 * pi / w``.
    ``pi`` is kept within [0, 1] (a win rate at or below ``alpha / 2`` means
    every win may be false).

    >>> round(false_positive_risk(10, 100)["fpr"], 3)
    0.226
    """
    if experiments <= 0:
        raise ConfigError("needs at least one experiment", parameter="experiments")
    if not 0 < alpha < 1 or not alpha / 2 < power <= 1:
        raise ConfigError("alpha in (0, 1) and power above alpha / 2", parameter="power")
    rate = wins / experiments
    half = alpha / 2
    pi = float(np.clip((power - rate) / (power - half), 0.0, 1.0))
    expected = half * pi + power * (1 - pi)
    fpr = half * pi / expected if expected > 0 else 1.0
    return {"win_rate": rate, "null_share": pi, "fpr": float(fpr)}


def compound(effects: Sequence[float]) -> float:
    """Relative effects compounded: ``prod(1 + r) - 1``."""
    return float(np.prod(1 + np.asarray(effects, dtype=np.float64)) - 1)
