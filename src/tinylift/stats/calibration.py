"""Simulated experiments for checking the engine's calibration.

Each simulated experiment becomes one row ("metric") of a :class:`Moments`,
so thousands of experiments are analysed in one vectorised call. Used by the
test suite (small runs) and ``benchmarks/bench_calibration.py`` (10,000 runs
per method); no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from tinylift.stats.moments import Moments

__all__ = ["METRIC_TYPES", "MetricType", "Simulated", "peeking", "simulate"]

MetricType = Literal["binary", "lognormal", "ratio", "cuped"]
METRIC_TYPES: tuple[MetricType, ...] = ("binary", "lognormal", "ratio", "cuped")

BINARY_P = 0.05
LOGNORMAL_SIGMA = 1.2
RATIO_VALUE = 0.3  # E[numerator] / E[denominator] by construction
CUPED_RHO = 0.7
CUPED_MEAN = 10.0


@dataclass(frozen=True)
class Simulated:
    """Moments of ``sims`` simulated A/B tests and the true absolute effect."""

    moments: Moments
    true_effect: float
    true_rel_effect: float


def _mean_moments(
    x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(sims, n, p) unit columns per arm -> (n, s, ss) with one row per sim."""
    n = np.array([x.shape[1], y.shape[1]], dtype=np.float64)
    s = np.stack([x.sum(axis=1), y.sum(axis=1)], axis=1)
    ss = np.stack([np.einsum("snp,snq->spq", x, x), np.einsum("snp,snq->spq", y, y)], axis=1)
    return n, s, ss


def simulate(
    kind: MetricType,
    *,
    sims: int,
    n: int,
    rng: np.random.Generator,
    effect: float = 0.0,
) -> Simulated:
    """``sims`` experiments with ``n`` units per arm; ``effect`` is relative.

    - binary: conversion 5 %, treatment 5 % x (1 + effect)
    - lognormal: heavy-tailed revenue, treatment values x (1 + effect)
    - ratio: numerator / denominator per unit (clicks per session)
    - cuped: normal metric (mean 10) with a pre-period covariate, correlation 0.7
    """
    if kind == "binary":
        p_t = BINARY_P * (1 + effect)
        x = np.stack([rng.binomial(n, BINARY_P, sims), rng.binomial(n, p_t, sims)], axis=1)
        nn = np.full((sims, 2), float(n))
        return Simulated(Moments.proportion(nn, x.astype(float)), p_t - BINARY_P, effect)
    if kind == "lognormal":
        mu = -(LOGNORMAL_SIGMA**2) / 2  # mean 1
        a = rng.lognormal(mu, LOGNORMAL_SIGMA, (sims, n, 1))
        b = rng.lognormal(mu, LOGNORMAL_SIGMA, (sims, n, 1)) * (1 + effect)
        nn, s, ss = _mean_moments(a, b)
        return Simulated(Moments.from_sums("mean", np.tile(nn, (sims, 1)), s, ss), effect, effect)
    if kind == "ratio":
        arms = []
        for lift in (0.0, effect):
            den = 1.0 + rng.poisson(2.0, (sims, n))
            num = rng.binomial(den.astype(np.int64), RATIO_VALUE) * rng.lognormal(
                -0.125, 0.5, (sims, n)
            )
            arms.append(np.stack([num * (1 + lift), den], axis=-1))
        nn, s, ss = _mean_moments(arms[0], arms[1])
        return Simulated(
            Moments.from_sums("ratio", np.tile(nn, (sims, 1)), s, ss), RATIO_VALUE * effect, effect
        )
    # cuped: x = 10 + rho c + sqrt(1 - rho^2) e, times (1 + effect) in treatment
    arms = []
    for lift in (0.0, effect):
        c = rng.normal(0.0, 1.0, (sims, n))
        e = rng.normal(0.0, 1.0, (sims, n))
        x = (CUPED_MEAN + CUPED_RHO * c + np.sqrt(1 - CUPED_RHO**2) * e) * (1 + lift)
        arms.append(np.stack([x, c], axis=-1))
    nn, s, ss = _mean_moments(arms[0], arms[1])
    return Simulated(
        Moments.from_sums("mean", np.tile(nn, (sims, 1)), s, ss), CUPED_MEAN * effect, effect
    )


def peeking(*, sims: int, looks: int, batch: int, rng: np.random.Generator) -> tuple[Moments, int]:
    """A/A tests on normal data, looked at after every batch of units per arm.

    Returns Moments with ``sims * looks`` rows (experiment-major: row
    ``i * looks + l`` is experiment i at look l) and the number of looks.
    Batch sums are drawn exactly: for b normal draws, the sum is N(0, b) and
    the sum of squares is sum**2 / b plus an independent chi-square(b - 1).
    """
    s = rng.normal(0.0, np.sqrt(batch), (sims, looks, 2))
    ss = s**2 / batch + rng.chisquare(batch - 1, (sims, looks, 2))
    cs, css = np.cumsum(s, axis=1), np.cumsum(ss, axis=1)
    n = np.broadcast_to((np.arange(1, looks + 1) * batch)[None, :, None], (sims, looks, 2))
    moments = Moments.from_sums(
        "mean",
        n.reshape(-1, 2).astype(np.float64),
        cs.reshape(-1, 2, 1),
        css.reshape(-1, 2, 1, 1),
    )
    return moments, looks
