"""Quantile tests: calibrated by simulation, SE against the bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from tinylift.errors import StatsError
from tinylift.stats.quantile import QuantileStats, quantile_test

DELTA = 0.02


def stats_of(arms: list[np.ndarray], q: float) -> QuantileStats:
    return QuantileStats.from_arrays(
        "order_value",
        [f"v{i}" for i in range(len(arms))],
        q=q,
        delta=DELTA,
        n=[len(a) for a in arms],
        lower=[np.quantile(a, q - DELTA) for a in arms],
        value=[np.quantile(a, q) for a in arms],
        upper=[np.quantile(a, q + DELTA) for a in arms],
    )


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_standard_error_matches_the_bootstrap(q: float) -> None:
    rng = np.random.default_rng(3)
    x = rng.lognormal(3, 0.8, 5_000)
    s = stats_of([x, x], q)
    boot = np.quantile(x[rng.integers(0, len(x), (1_000, len(x)))], q, axis=1)
    assert np.sqrt(s.var[0]) == pytest.approx(boot.std(ddof=1), rel=0.15)


def test_intervals_cover_a_true_shift_of_the_median() -> None:
    rng = np.random.default_rng(11)
    sims, n = 2_000, 2_000
    true_effect = np.exp(3.0) * 0.05  # lognormal(3, 0.8) has median e**3; treatment +5 %
    covered = 0
    for _ in range(sims):
        a = rng.lognormal(3, 0.8, n)
        b = rng.lognormal(3, 0.8, n) * 1.05
        r = quantile_test(stats_of([a, b], 0.5)).to_dict()
        covered += r["ci_low"] <= true_effect <= r["ci_high"]
    assert abs(covered / sims - 0.95) <= 3 * np.sqrt(0.05 * 0.95 / sims)


def test_aa_rejection_rate_on_independent_samples() -> None:
    rng = np.random.default_rng(5)
    sims, n = 2_000, 2_000
    p = np.array(
        [
            quantile_test(
                stats_of([rng.lognormal(3, 0.8, n), rng.lognormal(3, 0.8, n)], 0.5)
            ).to_dict()["p_value"]
            for _ in range(sims)
        ]
    )
    rate = (p < 0.05).mean()
    assert abs(rate - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / sims)


def test_bad_input_names_metric_and_variant() -> None:
    with pytest.raises(StatsError, match="metric 'm', variant 'b': needs at least 2 units"):
        QuantileStats.from_arrays(
            "m", ["a", "b"], q=0.5, delta=0.02, n=[10, 1], lower=[1, 1], value=[2, 2], upper=[3, 3]
        )
    with pytest.raises(StatsError, match="metric 'm', variant 'a': quantiles must increase"):
        QuantileStats.from_arrays(
            "m", ["a", "b"], q=0.5, delta=0.02, n=[10, 10], lower=[3, 1], value=[2, 2], upper=[3, 3]
        )
