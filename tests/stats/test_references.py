"""The engine against scipy and statsmodels on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats import multitest, proportion, weightstats
from statsmodels.stats.power import NormalIndPower

from tinylift.stats import (
    Moments,
    adjust_p_values,
    equivalence,
    fixed_horizon,
    mde,
    sample_size,
    srm_test,
)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize(
    ("n", "mean", "sd"),
    [([100, 120], [1.0, 1.3], [0.9, 1.1]), ([15, 40], [5.0, 4.2], [2.0, 0.7])],
)
def test_welch_matches_scipy(
    alternative: str, n: list[int], mean: list[float], sd: list[float]
) -> None:
    r = fixed_horizon(Moments.mean(n, mean, sd), alternative=alternative)  # type: ignore[arg-type]
    ref = stats.ttest_ind_from_stats(
        mean[1], sd[1], n[1], mean[0], sd[0], n[0], equal_var=False, alternative=alternative
    )
    row = r.to_dict()
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    # the interval is the same t distribution, inverted
    se = row["se"]
    df = (sd[1] ** 2 / n[1] + sd[0] ** 2 / n[0]) ** 2 / (
        (sd[1] ** 2 / n[1]) ** 2 / (n[1] - 1) + (sd[0] ** 2 / n[0]) ** 2 / (n[0] - 1)
    )
    if alternative == "two-sided":
        q = stats.t.isf(0.025, df)
        assert row["ci_low"] == pytest.approx(row["effect"] - q * se, rel=1e-10)
        assert row["ci_high"] == pytest.approx(row["effect"] + q * se, rel=1e-10)


def test_welch_from_raw_units_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(0, 1, 500), rng.lognormal(0.1, 1, 700)
    r = fixed_horizon(Moments.from_units("mean", [a, b])).to_dict()
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert r["effect"] == pytest.approx(b.mean() - a.mean(), rel=1e-12)


@pytest.mark.parametrize(("x", "n"), [((480, 530), (10_000, 10_000)), ((30, 12), (400, 350))])
def test_proportions_match_statsmodels(x: tuple[int, int], n: tuple[int, int]) -> None:
    r = fixed_horizon(Moments.proportion(list(n), list(x))).to_dict()
    ref = proportion.test_proportions_2indep(x[1], n[1], x[0], n[0], method="wald")
    lo, hi = proportion.confint_proportions_2indep(x[1], n[1], x[0], n[0], method="wald")
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert r["ci_low"] == pytest.approx(lo, rel=1e-10)
    assert r["ci_high"] == pytest.approx(hi, rel=1e-10)


def test_ratio_delta_variance_matches_bootstrap() -> None:
    rng = np.random.default_rng(7)
    n = 4_000
    sessions = rng.poisson(3, n) + 1
    clicks = rng.binomial(sessions, 0.3) * rng.lognormal(0, 0.5, n)
    mo = Moments.from_units("ratio", [np.c_[clicks, sessions], np.c_[clicks, sessions]])
    var = mo.arm_estimates().var[0, 0]
    idx = rng.integers(0, n, size=(2_000, n))
    boot = clicks[idx].sum(axis=1) / sessions[idx].sum(axis=1)
    # the bootstrap variance has relative error ~ sqrt(2 / 2000) = 3 %
    assert var == pytest.approx(boot.var(ddof=1), rel=0.1)


def test_cuped_matches_ols_with_the_covariate() -> None:
    rng = np.random.default_rng(3)
    n = 3_000
    pre = rng.gamma(2, 10, 2 * n)
    treat = np.r_[np.zeros(n), np.ones(n)]
    y = 5 + 0.8 * pre + 1.5 * treat + rng.normal(0, 8, 2 * n)
    mo = Moments.from_units("mean", [np.c_[y[:n], pre[:n]], np.c_[y[n:], pre[n:]]])
    r = fixed_horizon(mo, cuped=True).to_dict()
    # OLS: y ~ 1 + treat + (pre - mean(pre)); the treatment coefficient is the CUPED effect
    X = sm.add_constant(np.c_[treat, pre - pre.mean()])
    ols = sm.OLS(y, X).fit()
    assert r["effect"] == pytest.approx(ols.params[1], rel=1e-3)
    assert r["se"] == pytest.approx(ols.bse[1], rel=0.02)


@pytest.mark.parametrize("method", ["bonferroni", "holm", "hochberg", "bh", "by"])
def test_corrections_match_statsmodels(method: str) -> None:
    names = {
        "bonferroni": "bonferroni",
        "holm": "holm",
        "hochberg": "simes-hochberg",
        "bh": "fdr_bh",
        "by": "fdr_by",
    }
    rng = np.random.default_rng(11)
    for size in (1, 2, 7, 50):
        p = rng.beta(0.4, 1.0, size)
        p[: size // 3] = p[0]  # ties
        ours = adjust_p_values(p, method)  # type: ignore[arg-type]
        ref = multitest.multipletests(p, method=names[method])[1]
        np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_corrections_keep_shape_and_skip_missing() -> None:
    p = np.array([[0.01, np.nan], [0.04, 0.03]])
    out = adjust_p_values(p, "holm")
    assert out.shape == p.shape
    assert np.isnan(out[0, 1])
    np.testing.assert_allclose(out[~np.isnan(p)], [0.03, 0.06, 0.06])


def test_srm_matches_scipy_chisquare() -> None:
    res = srm_test([5_100, 4_900, 10_300], [0.25, 0.25, 0.5])
    ref = stats.chisquare([5_100, 4_900, 10_300], [5_075, 5_075, 10_150])
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)


def test_equivalence_matches_statsmodels_tost() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(10, 2, 400), rng.normal(10.1, 2.5, 380)
    r = equivalence(Moments.from_units("mean", [a, b]), margin=0.6)
    p, _, _ = weightstats.ttost_ind(b, a, -0.6, 0.6, usevar="unequal")
    assert r.p_value[0, 0] == pytest.approx(p, rel=1e-8)
    assert bool(r.equivalent[0, 0]) == (p < 0.05)


def test_sample_size_for_means_matches_statsmodels() -> None:
    ours = sample_size("mean", baseline=50.0, sd=20.0, mde=2.0)
    ref = NormalIndPower().solve_power(effect_size=2.0 / 20.0, alpha=0.05, power=0.8)
    assert ours.n_per_variant == int(np.ceil(ref))


def test_sample_size_for_proportions_matches_statsmodels() -> None:
    # unpooled variance: express the effect in units of the average sd
    p0, p1 = 0.10, 0.11
    sigma = np.sqrt((p0 * (1 - p0) + p1 * (1 - p1)) / 2)
    ref = NormalIndPower().solve_power(effect_size=0.01 / sigma, alpha=0.05, power=0.8)
    assert sample_size("proportion", baseline=p0, mde=0.01).n_per_variant == int(np.ceil(ref))
    rel = sample_size("proportion", baseline=p0, mde=0.1, relative=True)
    assert rel.n_per_variant == int(np.ceil(ref))


def test_mde_inverts_sample_size() -> None:
    plan = sample_size("proportion", baseline=0.05, mde=0.002)
    assert mde("proportion", baseline=0.05, n_per_variant=plan.n_per_variant) == pytest.approx(
        0.002, rel=1e-3
    )
    plan = sample_size("mean", baseline=80, sd=120, mde=0.02, relative=True, cuped_rho=0.6)
    assert mde(
        "mean", baseline=80, sd=120, n_per_variant=plan.n_per_variant, relative=True, cuped_rho=0.6
    ) == pytest.approx(0.02, rel=1e-3)


def test_cuped_shrinks_the_sample_by_one_minus_rho_squared() -> None:
    plain = sample_size("mean", baseline=10, sd=5, mde=0.2)
    cuped = sample_size("mean", baseline=10, sd=5, mde=0.2, cuped_rho=0.6)
    assert cuped.n_per_variant / plain.n_per_variant == pytest.approx(0.64, rel=1e-3)


def test_families_of_corrections_on_a_comparison() -> None:
    mo = Moments.proportion(
        [[1000, 1000, 1000], [1000, 1000, 1000]],
        [[100, 130, 95], [50, 52, 75]],
        metrics=["conversion", "returns"],
    )
    r = fixed_horizon(mo)
    per_metric = r.adjusted("holm", family="metric").p_value_adjusted
    for i in range(2):
        np.testing.assert_allclose(
            per_metric[i], multitest.multipletests(r.p_value[i], method="holm")[1]
        )
    whole = r.adjusted("bh", family="experiment").p_value_adjusted
    np.testing.assert_allclose(
        whole.ravel(), multitest.multipletests(r.p_value.ravel(), method="fdr_bh")[1]
    )


def test_ratio_cuped_is_unbiased_and_its_variance_matches_simulation() -> None:
    # clicks per session with last month's clicks and sessions as covariates
    rng = np.random.default_rng(21)
    sims, n = 4_000, 400

    def arm(lift: float) -> np.ndarray:
        activity = rng.gamma(2.0, 1.0, (sims, n))
        ctr = rng.beta(3.0, 7.0, (sims, n))  # a persistent per-user rate, mean 0.3
        pre_den = rng.poisson(activity * 3) + 1.0
        pre_num = rng.binomial(pre_den.astype(int), ctr).astype(float)
        den = rng.poisson(activity * 3) + 1.0
        num = rng.binomial(den.astype(int), ctr).astype(float) * (1 + lift)
        return np.stack([num, den, pre_num, pre_den], axis=-1)

    a, b = arm(0.0), arm(0.05)
    s = np.stack([a.sum(1), b.sum(1)], axis=1)
    ss = np.stack([np.einsum("snp,snq->spq", a, a), np.einsum("snp,snq->spq", b, b)], axis=1)
    mo = Moments.from_sums("ratio", np.full((sims, 2), float(n)), s, ss)
    plain, cuped = fixed_horizon(mo), fixed_horizon(mo, cuped=True)
    truth = 0.3 * 0.05
    est = cuped.effect[:, 0]
    assert abs(est.mean() - truth) < 3 * est.std() / np.sqrt(sims)
    # the delta-method standard error matches the spread of the estimates
    assert cuped.se[:, 0].mean() == pytest.approx(est.std(), rel=0.05)
    assert cuped.se[:, 0].mean() < 0.9 * plain.se[:, 0].mean()
