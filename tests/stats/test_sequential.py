"""Confidence sequences, mSPRT and group sequential boundaries against their definitions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from tinylift.stats import (
    Moments,
    constant_boundaries,
    cs_half_width,
    group_sequential,
    msprt_p_values,
    sequential,
    spending_boundaries,
)
from tinylift.stats.boundaries import crossing_probabilities
from tinylift.stats.confidence_sequences import cs_rho2
from tinylift.stats.power import gs_inflation, inflation_factor


def _mixture_boundary(n: float, rho2: float, alpha: float) -> float:
    """Solve the normal-mixture martingale = 1/alpha by numerical integration.

    M_n(s) = integral of exp(l s - l^2 n / 2) against N(0, rho2) over l, for a
    sum s of n unit-variance increments (Robbins 1970). Independent of the
    closed form the engine uses.
    """

    def log_mixture(s: float) -> float:
        prec = n + 1 / rho2
        peak = s**2 / (2 * prec)  # the exponent's maximum, taken out for stability

        def f(lam: float) -> float:
            return float(np.exp(lam * s - lam**2 * prec / 2 - peak))

        centre, sd = s / prec, 1 / np.sqrt(prec)
        area = integrate.quad(f, centre - 12 * sd, centre + 12 * sd)[0]
        return float(peak + np.log(area) - 0.5 * np.log(2 * np.pi * rho2))

    s = optimize.brentq(lambda s: log_mixture(s) + np.log(alpha), 1e-6, 10 * np.sqrt(n))
    return s / n  # boundary on the mean


@pytest.mark.parametrize(("n", "tuning"), [(100, 5_000), (5_000, 5_000), (20_000, 1_000)])
def test_cs_half_width_matches_the_mixture_martingale(n: int, tuning: int) -> None:
    alpha = 0.05
    rho2 = cs_rho2(alpha, tuning)
    assert cs_half_width(n, 1.0, alpha=alpha, tuning=tuning) == pytest.approx(
        _mixture_boundary(n, rho2, alpha), rel=1e-6
    )


def test_cs_worked_value() -> None:
    # alpha = 0.05, N* = 5000: rho^2 = (5.9915 + log 6.9915) / 5000 = 0.0015872;
    # at n = 5000, sigma = 1: sqrt(2 * 8.936 / (5000 * 7.936) * log(sqrt(8.936) / 0.05))
    rho2 = (-2 * np.log(0.05) + np.log(-2 * np.log(0.05) + 1)) / 5000
    assert cs_rho2(0.05, 5000) == pytest.approx(rho2)
    assert cs_rho2(0.05, 5000) == pytest.approx(0.0015873, rel=1e-4)
    assert float(cs_half_width(5000, 1.0, alpha=0.05)) == pytest.approx(0.04296, rel=1e-3)


def test_cs_is_wider_than_the_fixed_interval_and_shrinks_with_n() -> None:
    widths = cs_half_width(np.array([1e3, 1e4, 1e5]), 1.0, alpha=0.05)
    fixed = stats.norm.isf(0.025) / np.sqrt([1e3, 1e4, 1e5])
    assert (widths > fixed).all()
    assert (np.diff(widths) < 0).all()


def test_sequential_p_value_is_dual_to_the_confidence_sequence() -> None:
    rng = np.random.default_rng(2)
    for shift in (0.0, 0.05, 0.1, 0.2):
        a, b = rng.normal(0, 1, 2_000), rng.normal(shift, 1, 2_000)
        r = sequential(Moments.from_units("mean", [a, b])).to_dict()
        excludes_zero = r["ci_low"] > 0 or r["ci_high"] < 0
        assert excludes_zero == (r["p_value"] < 0.05)


def test_msprt_p_values_are_a_running_minimum() -> None:
    effects = np.array([0.5, 0.1, 0.3, 0.0])
    variances = np.array([0.1, 0.01, 0.01, 0.005])
    p = msprt_p_values(effects, variances, tau2=0.01)
    assert (np.diff(p) <= 0).all()
    assert p[0] == pytest.approx(
        min(1, 1 / (np.sqrt(0.1 / 0.11) * np.exp(0.01 * 0.25 / (2 * 0.1 * 0.11))))
    )


def test_lan_demets_obrien_fleming_matches_published_boundaries() -> None:
    # Two-sided alpha = 0.05, five equally spaced looks (gsDesign sfLDOF,
    # ldbounds with alpha = c(0.025, 0.025)): 4.8769 3.3569 2.6803 2.2898 2.0310
    z = spending_boundaries([0.2, 0.4, 0.6, 0.8, 1.0], alpha=0.05, spending="obf")
    np.testing.assert_allclose(z, [4.8769, 3.3569, 2.6803, 2.2898, 2.0310], atol=2e-4)


@pytest.mark.parametrize(
    ("looks", "obf", "pocock"),
    # Jennison & Turnbull (2000), tables 2.1 and 2.3: C_P(K, 0.05) and C_B(K, 0.05)
    [(2, 1.977, 2.178), (3, 2.004, 2.289), (4, 2.024, 2.361), (5, 2.040, 2.413)],
)
def test_classical_constants_match_jennison_turnbull(looks: int, obf: float, pocock: float) -> None:
    assert constant_boundaries(looks, shape="obrien-fleming")[-1] == pytest.approx(obf, abs=1e-3)
    assert constant_boundaries(looks, shape="pocock")[0] == pytest.approx(pocock, abs=1e-3)


@pytest.mark.parametrize(
    ("looks", "obf", "pocock"),
    # Jennison & Turnbull (2000), tables 2.2 and 2.4: R_P, R_B at alpha 0.05, power 0.8
    [(2, 1.008, 1.110), (3, 1.017, 1.166), (5, 1.028, 1.229)],
)
def test_inflation_factors_match_jennison_turnbull(looks: int, obf: float, pocock: float) -> None:
    t = np.arange(1, looks + 1) / looks
    assert inflation_factor(constant_boundaries(looks), t) == pytest.approx(obf, abs=2e-3)
    assert inflation_factor(constant_boundaries(looks, shape="pocock"), t) == pytest.approx(
        pocock, abs=2e-3
    )
    assert gs_inflation(looks) > 1


def test_spending_design_spends_exactly_alpha_by_monte_carlo() -> None:
    t = np.array([0.25, 0.5, 0.75, 1.0])
    z = spending_boundaries(t, alpha=0.05)
    assert crossing_probabilities(z, t).sum() == pytest.approx(0.05, abs=1e-6)
    rng = np.random.default_rng(0)
    steps = rng.normal(0, np.sqrt(np.diff(np.r_[0, t])), size=(400_000, 4))
    zs = np.cumsum(steps, axis=1) / np.sqrt(t)
    rate = (np.abs(zs) >= z).any(axis=1).mean()
    assert abs(rate - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 400_000)


def test_group_sequential_warns_past_the_planned_maximum() -> None:
    mo = Moments.proportion([6_000, 6_000], [600, 640])
    inside = group_sequential(mo, max_n=20_000, previous_n=[5_000])
    over = group_sequential(mo, max_n=10_000, previous_n=[5_000])
    assert not any("exceeded" in f for f in inside.row("metric0")["flags"])
    assert any("planned maximum sample exceeded" in f for f in over.row("metric0")["flags"])
    # past the plan the last look spends all that is left: the boundary is finite
    assert np.isfinite(over.boundary_z).all()
