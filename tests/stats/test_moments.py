"""Sufficient statistics: they add, they validate, degenerate input is marked."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinylift.errors import StatsError
from tinylift.stats import Moments, bayesian, fixed_horizon, sequential

values = arrays(np.float64, st.integers(4, 60), elements=st.floats(-1e3, 1e3))


@settings(max_examples=60, deadline=None)
@given(values, values, st.integers(1, 3))
def test_statistics_add_across_shards(a: np.ndarray, b: np.ndarray, cut: int) -> None:
    whole = Moments.from_units("mean", [a, b])
    parts = Moments.from_units("mean", [a[:cut], b[:cut]]) + Moments.from_units(
        "mean", [a[cut:], b[cut:]]
    )
    np.testing.assert_allclose(parts.n, whole.n)
    np.testing.assert_allclose(parts.s, whole.s, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(parts.ss, whole.ss, rtol=1e-9, atol=1e-3)


def test_ratio_with_covariate_adds_across_shards() -> None:
    rng = np.random.default_rng(0)
    cols = [rng.poisson(3, (200, 4)).astype(float) + 1 for _ in range(3)]
    whole = Moments.from_units("ratio", cols)
    parts = Moments.from_units("ratio", [c[:70] for c in cols]) + Moments.from_units(
        "ratio", [c[70:] for c in cols]
    )
    a, b = fixed_horizon(whole, cuped=True).to_dict(), fixed_horizon(parts, cuped=True).to_dict()
    assert a["rows"][0]["effect"] == pytest.approx(b["rows"][0]["effect"], rel=1e-12)


def test_abn_compares_every_treatment_with_control() -> None:
    mo = Moments.proportion([[1000, 1000, 1000, 1000]], [[100, 110, 90, 100]])
    r = fixed_horizon(mo)
    assert r.shape == (1, 3)
    assert r.treatments == ("treatment_1", "treatment_2", "treatment_3")
    assert [round(x["effect"], 3) for x in r.records()] == [0.01, -0.01, 0.0]


def test_many_metrics_at_once_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(4)
    n = rng.integers(500, 1500, (20, 3)).astype(float)
    x = rng.binomial(n.astype(int), 0.1).astype(float)
    together = fixed_horizon(Moments.proportion(n, x))
    for i in range(20):
        alone = fixed_horizon(Moments.proportion(n[i], x[i]))
        np.testing.assert_allclose(together.p_value[i], alone.p_value[0])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Moments.mean(
                [1, 10], [1.0, 2.0], [1.0, 1.0], metrics=["revenue"], variants=["control", "b"]
            ),
            "metric 'revenue', variant 'control': needs at least 2 units",
        ),
        (
            lambda: Moments.mean(
                [10, 10], [1.0, 2.0], [1.0, -1.0], metrics=["revenue"], variants=["control", "b"]
            ),
            "metric 'revenue', variant 'b': a standard deviation cannot be negative",
        ),
        (
            lambda: Moments.from_sums(
                "mean",
                [[10, 10]],
                [[[5.0], [5.0]]],
                [[[[1.0]], [[9.0]]]],
                metrics=["aov"],
                variants=["a", "b"],
            ),
            "metric 'aov', variant 'a': negative variance",
        ),
        (
            lambda: Moments.from_sums(
                "ratio",
                [[10, 10]],
                [[[5.0, 0.0], [5.0, 3.0]]],
                [[[[9.0, 0.0], [0.0, 0.0]], [[9.0, 2.0], [2.0, 3.0]]]],
                metrics=["returns_per_order"],
                variants=["a", "b"],
            ),
            "metric 'returns_per_order', variant 'a': the ratio's denominator sums to zero",
        ),
        (
            lambda: Moments.proportion(
                [100, 100], [20, 120], metrics=["conv"], variants=["a", "b"]
            ),
            "metric 'conv', variant 'b': successes must be between 0 and n",
        ),
        (
            lambda: Moments.from_sums(
                "mean", [[10, 10, 10]], [[[5.0], [5.0]]], [[[[9.0]], [[9.0]]]]
            ),
            "mismatched variants",
        ),
        (
            lambda: Moments.proportion([10, 10], [1, 2], variants=["a", "b", "c"]),
            "expected 2 variant names",
        ),
    ],
)
def test_bad_input_names_metric_and_variant(build: object, message: str) -> None:
    def run() -> None:
        fixed_horizon(build())  # type: ignore[operator]

    with pytest.raises(StatsError, match=re.escape(message)):
        run()


def test_adding_different_metrics_is_refused() -> None:
    a = Moments.proportion([10, 10], [1, 2], metrics=["x"])
    b = Moments.proportion([10, 10], [1, 2], metrics=["y"])
    with pytest.raises(StatsError, match="same metrics"):
        _ = a + b


@pytest.mark.parametrize("method", [fixed_horizon, sequential, bayesian])
def test_zero_variance_is_marked_not_nan(method: object) -> None:
    # 100 % conversion in both arms: valid, degenerate
    mo = Moments.proportion([500, 500], [500, 500])
    row = method(mo).to_dict()  # type: ignore[operator]
    assert "zero variance" in row["flags"]
    assert row["effect"] == 0
    assert row["p_value"] == 1.0
    assert row["ci_low"] == row["ci_high"] == 0


def test_zero_variance_with_a_difference_is_certain() -> None:
    mo = Moments.proportion([500, 500], [0, 500])
    row = fixed_horizon(mo).to_dict()
    assert row["p_value"] == 0.0
    assert "zero variance" in row["flags"]
    assert "control mean is zero: relative effect undefined" in row["flags"]


def test_constant_covariate_leaves_cuped_a_plain_estimate() -> None:
    rng = np.random.default_rng(1)
    a = np.c_[rng.normal(0, 1, 300), np.zeros(300)]
    b = np.c_[rng.normal(0.2, 1, 300), np.zeros(300)]
    mo = Moments.from_units("mean", [a, b])
    plain, cuped = fixed_horizon(mo).to_dict(), fixed_horizon(mo, cuped=True).to_dict()
    assert cuped["effect"] == pytest.approx(plain["effect"])
    assert cuped["se"] == pytest.approx(plain["se"])


@pytest.mark.parametrize("scale", [1e8, 1e10, 1e12])
def test_summary_numbers_keep_their_precision_when_the_mean_dwarfs_the_spread(
    scale: float,
) -> None:
    from scipy import stats as sps

    from tinylift.stats import fixed_horizon

    mo = Moments.mean([1000, 1200], [scale, scale + 0.1], [1.0, 1.3])
    row = fixed_horizon(mo).row("metric0")
    ref = sps.ttest_ind_from_stats(scale + 0.1, 1.3, 1200, scale, 1.0, 1000, equal_var=False)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-6)
    assert row["se"] == pytest.approx((1.0**2 / 1000 + 1.3**2 / 1200) ** 0.5, rel=1e-9)
    # shards with the same centring add up exactly
    both = mo + mo
    # (two copies of each arm: n doubles and the sample variance shrinks by (2n-2)/(2n-1))
    assert fixed_horizon(both).row("metric0")["se"] == pytest.approx(row["se"] / 2**0.5, rel=1e-3)
