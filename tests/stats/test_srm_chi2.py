"""The chi-square tail written for a fast ``calc srm`` agrees with scipy's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from tinylift.errors import StatsError
from tinylift.stats.srm import chi2_sf, srm_test


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 10, 19, 50])
def test_chi2_sf_matches_scipy(df: int) -> None:
    xs = np.concatenate([np.linspace(0.001, 3 * df + 60, 400), [500.0, 1200.0]])
    ours = np.array([chi2_sf(float(x), df) for x in xs])
    ref = sps.chi2.sf(xs, df)
    keep = ref > 1e-300
    np.testing.assert_allclose(ours[keep], ref[keep], rtol=1e-10)


def test_srm_matches_scipy_chisquare() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        k = int(rng.integers(2, 6))
        counts = rng.integers(8, 100_000, size=k)
        weights = rng.uniform(0.1, 3, size=k)
        res = srm_test(counts.tolist(), weights.tolist())
        expected = counts.sum() * weights / weights.sum()
        stat, p = sps.chisquare(counts, expected)
        assert res.statistic == pytest.approx(stat, rel=1e-10)
        assert res.p_value == pytest.approx(p, rel=1e-9, abs=1e-300)


def test_degrees_of_freedom_below_one_are_refused() -> None:
    with pytest.raises(StatsError, match="degrees of freedom"):
        chi2_sf(1.0, 0)
