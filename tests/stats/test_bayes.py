from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tinylift.errors import StatsError
from tinylift.stats import Moments, Prior, bayesian, fixed_horizon


def test_flat_prior_gives_the_delta_method_interval_on_the_lift() -> None:
    mo = Moments.proportion([20_000, 20_000], [1_000, 1_080])
    b, f = bayesian(mo).to_dict(), fixed_horizon(mo).to_dict()
    # the normal model on the lift is the symmetric delta-method interval (the
    # fixed-horizon report uses the log-ratio one, see frequentist.py)
    z = stats.norm.isf(0.025)
    assert b["rel_ci_low"] == pytest.approx(f["rel_effect"] - z * f["rel_se"], rel=1e-12)
    assert b["rel_ci_high"] == pytest.approx(f["rel_effect"] + z * f["rel_se"], rel=1e-12)
    assert b["chance_to_win"] == pytest.approx(stats.norm.cdf(f["rel_effect"] / f["rel_se"]))


def test_proper_prior_shrinks_towards_its_mean() -> None:
    mo = Moments.proportion([2_000, 2_000], [100, 130])
    flat = bayesian(mo).to_dict()
    tight = bayesian(mo, prior=Prior(0.0, 0.05)).to_dict()
    assert 0 < tight["rel_effect"] < flat["rel_effect"]
    assert tight["posterior_sd"] < flat["posterior_sd"]
    # conjugate update, by hand
    s2, t2 = flat["rel_se"] ** 2, 0.05**2
    assert tight["rel_effect"] == pytest.approx(flat["rel_effect"] * t2 / (s2 + t2))


def test_expected_loss_matches_monte_carlo() -> None:
    mo = Moments.mean([5_000, 5_000], [10.0, 10.1], [4.0, 4.0])
    r = bayesian(mo).to_dict()
    draws = np.random.default_rng(0).normal(r["rel_effect"], r["posterior_sd"], 2_000_000)
    assert r["expected_loss"] == pytest.approx(np.maximum(-draws, 0).mean(), rel=0.01)
    assert r["expected_loss_control"] == pytest.approx(np.maximum(draws, 0).mean(), rel=0.01)
    assert r["chance_to_win"] == pytest.approx((draws > 0).mean(), abs=0.002)


def test_lower_is_better_flips_the_chance_to_win() -> None:
    mo = Moments.proportion([5_000, 5_000], [400, 460])
    up = bayesian(mo).to_dict()
    down = bayesian(mo, lower_is_better=True).to_dict()
    assert down["chance_to_win"] == pytest.approx(1 - up["chance_to_win"])
    assert down["expected_loss"] == pytest.approx(up["expected_loss_control"])


def test_prior_needs_a_positive_sd() -> None:
    with pytest.raises(StatsError, match="sd"):
        Prior(0.0, -1.0)
