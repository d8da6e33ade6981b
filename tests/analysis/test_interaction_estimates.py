"""The scan's per-cell estimates over many pairs at once equal those of one pair at a time."""

from __future__ import annotations

import numpy as np

from tinylift.analysis.interactions import _estimates
from tinylift.stats.moments import Moments


def cells(rng: np.random.Generator, kind: str = "mean") -> Moments:
    """A 2 x 2 grid of cells (with a CUPED covariate) as Moments, from simulated units."""
    columns = []
    for _ in range(4):
        n = int(rng.integers(50, 400))
        y = rng.gamma(2.0, 3.0, n)
        x = y + rng.normal(0, 2, n)
        columns.append(np.column_stack([y, x]))
    return Moments.from_units(kind, columns, variants=["c|c", "c|t", "t|c", "t|t"])  # type: ignore[arg-type]


def test_many_pairs_at_once_equal_one_at_a_time_and_bad_ones_drop_out() -> None:
    rng = np.random.default_rng(11)
    members = [((f"a{i}", f"b{i}"), cells(rng)) for i in range(30)]
    together = {key: (v, s) for key, v, s in _estimates(members)}
    for key, mo in members:
        one = mo.arm_estimates(cuped=True)
        np.testing.assert_allclose(together[key][0], one.value[0], rtol=1e-12)
        np.testing.assert_allclose(together[key][1], one.var[0], rtol=1e-12)
    # a pair whose sums are impossible (negative variance) is left out, the rest stay
    bad = members[3][1]
    broken = Moments(bad.kind, bad.n, bad.s, bad.ss * 0.01, bad.metrics, bad.variants)
    mixed = [*members[:3], (("x", "y"), broken), *members[4:]]
    kept = {key for key, _, _ in _estimates(mixed)}
    assert ("x", "y") not in kept
    assert len(kept) == len(members) - 1
    alone = {k: v for k, v, _ in _estimates(mixed)}
    np.testing.assert_allclose(alone[members[0][0]], together[members[0][0]][0], rtol=1e-12)
