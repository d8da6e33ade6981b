"""The decision path holds its size in both directions (A/A simulations).

Each cell runs 4,000 simulated A/A experiments, vectorised: every experiment
is one "metric" of a Moments object. The scorecard's decision rule ships a
higher-is-better OEC exactly when the two-sided interval of the absolute
effect lies above zero, and a lower-is-better one when it lies below (checked
on the real path, ``build_scorecard``, below), so the ship rate in each
direction is the interval's miss rate on that side: at most alpha/2 plus
3 Monte Carlo SE, for fixed-horizon tests and for confidence sequences over
100 looks (from the first look with 100 units in each arm: below that the
scorecard gives no verdict, and rightly — a ratio's confidence sequence at 20
units and 2 orders per arm crosses 8 % of the time). The lift's interval
(Fieller) is checked on both sides too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from tinylift.analysis.compute import MIN_UNITS_PER_ARM, build_scorecard
from tinylift.analysis.plan import ExperimentPlan
from tinylift.metrics import parse_catalog
from tinylift.stats import Moments, fixed_horizon, sequential
from tinylift.warehouse.contract import ExperimentStats

pytestmark = pytest.mark.slow

R, ALPHA = 4000, 0.05
SIDE = ALPHA / 2
TOL = 3 * np.sqrt(SIDE * (1 - SIDE) / R)  # 3 Monte Carlo SE of a miss rate near alpha/2


def conversions(rng: np.random.Generator, looks: int = 1) -> list[Moments]:
    """1 % conversion, 5,000 units per arm: about 50 conversions per arm."""
    per = 5000 // looks
    x = np.cumsum(rng.binomial(per, 0.01, size=(R, 2, looks)), axis=-1).astype(float)
    return [
        Moments.from_sums(
            "proportion",
            np.full((R, 2), float(per * (j + 1))),
            x[..., j, None],
            x[..., j, None, None],
        )
        for j in range(looks)
    ]


def revenue(rng: np.random.Generator, looks: int = 1) -> list[Moments]:
    """Revenue per unit, 95 % zeros, 2,000 units per arm: about 100 buyers per arm."""
    per = 2000 // looks
    buyers = rng.binomial(per, 0.05, size=(R, 2, looks))
    values = rng.lognormal(4, 1, size=buyers.sum())
    cell = np.repeat(np.arange(buyers.size), buyers.ravel())
    s = np.bincount(cell, values, minlength=buyers.size).reshape(buyers.shape)
    ss = np.bincount(cell, values**2, minlength=buyers.size).reshape(buyers.shape)
    s, ss = np.cumsum(s, axis=-1), np.cumsum(ss, axis=-1)
    return [
        Moments.from_sums(
            "mean", np.full((R, 2), float(per * (j + 1))), s[..., j, None], ss[..., j, None, None]
        )
        for j in range(looks)
    ]


def ratio(rng: np.random.Generator, looks: int = 1) -> list[Moments]:
    """Revenue per order (a ratio metric), 2,000 units per arm ordering 0.1 times each."""
    per = 2000 // looks
    orders = rng.poisson(0.1, size=(R, 2, looks, per))
    values = rng.lognormal(4, 1, size=orders.sum())
    unit = np.repeat(np.arange(orders.size), orders.ravel())
    x = np.bincount(unit, values, minlength=orders.size).reshape(orders.shape)
    y = orders.astype(float)
    # per look: sums over its units, then running totals over looks
    s = np.cumsum(np.stack([x.sum(-1), y.sum(-1)], -1), axis=2)
    ss = np.empty((R, 2, looks, 2, 2))
    ss[..., 0, 0], ss[..., 1, 1] = (x * x).sum(-1), (y * y).sum(-1)
    ss[..., 0, 1] = ss[..., 1, 0] = (x * y).sum(-1)
    ss = np.cumsum(ss, axis=2)
    return [
        Moments.from_sums("ratio", np.full((R, 2), float(per * (j + 1))), s[:, :, j], ss[:, :, j])
        for j in range(looks)
    ]


CELLS = {"conversion": conversions, "revenue": revenue, "ratio": ratio}
SEEDS = {"conversion": 101, "revenue": 202, "ratio": 303}


@pytest.mark.parametrize("cell", list(CELLS))
def test_fixed_horizon_ships_at_most_half_alpha_each_way(cell: str) -> None:
    (mo,) = CELLS[cell](np.random.default_rng(SEEDS[cell]))
    res = fixed_horizon(mo, alpha=ALPHA)
    lo, hi = res.ci_low[:, 0], res.ci_high[:, 0]
    # higher-is-better ships when the interval is above 0, lower-is-better when below
    for rate in ((lo > 0).mean(), (hi < 0).mean()):
        assert abs(rate - SIDE) <= TOL, (cell, rate)
    rlo, rhi = res.rel_ci_low[:, 0], res.rel_ci_high[:, 0]
    for rate in (np.mean(rlo > 0), np.mean(rhi < 0)):
        assert abs(rate - SIDE) <= TOL, (cell, "lift", rate)
    # the lift's interval (Fieller) and the absolute one agree on every experiment
    np.testing.assert_array_equal(rlo > 0, lo > 0)
    np.testing.assert_array_equal(rhi < 0, hi < 0)


@pytest.mark.parametrize("cell", list(CELLS))
def test_confidence_sequences_over_100_looks_ship_at_most_half_alpha_each_way(cell: str) -> None:
    looks = CELLS[cell](np.random.default_rng(SEEDS[cell] + 1), looks=100)
    planned = float(looks[-1].n[0].sum())  # tuned to the planned sample, as the scorecard does
    up = np.zeros(R, dtype=bool)
    down = np.zeros(R, dtype=bool)
    for mo in looks:
        if mo.n.min() < MIN_UNITS_PER_ARM:
            continue  # the scorecard gives no verdict on fewer units in an arm
        # a ratio has no value until its denominator does: such experiments wait
        ok = (mo.s[..., -1] > 0).all(axis=1) if mo.kind == "ratio" else np.ones(R, dtype=bool)
        sub = Moments(mo.kind, mo.n[ok], mo.s[ok], mo.ss[ok], mo.metrics[: ok.sum()], mo.variants)
        res = sequential(sub, alpha=ALPHA, tuning=planned)
        up[ok] |= res.ci_low[:, 0] > 0
        down[ok] |= res.ci_high[:, 0] < 0
    for rate in (up.mean(), down.mean()):
        assert rate <= SIDE + TOL, (cell, rate)
    # and peeking at fixed-horizon tests would have shipped far more often
    naive = np.zeros(R, dtype=bool)
    for mo in looks[len(looks) // 10 :]:
        naive |= fixed_horizon(mo, alpha=ALPHA).ci_low[:, 0] > 0
    assert naive.mean() > 3 * SIDE


CATALOG = parse_catalog(
    """
metrics:
  - {name: up, type: proportion, event: purchase, role: oec, direction: higher}
  - {name: down, type: proportion, event: support, direction: lower}
"""
)


def scorecard(mo: Moments, metric: str) -> Any:
    plan = ExperimentPlan.build(
        CATALOG, key="aa", variants=["control", "treatment"], oec=metric, complete=True
    )
    stats = ExperimentStats(
        key="aa",
        variants=("control", "treatment"),
        units={"control": int(mo.n[0, 0]), "treatment": int(mo.n[0, 1])},
        multi_variant_units=0,
        unplanned_variant_units=0,
        metrics={metric: mo},
    )
    return build_scorecard(stats, plan, cutoff=datetime(2026, 6, 1, tzinfo=UTC), alpha=ALPHA)


@pytest.mark.parametrize("metric", ["up", "down"])
def test_the_scorecard_ships_exactly_when_the_interval_clears_zero(metric: str) -> None:
    rng = np.random.default_rng(11)
    n = 5000
    shipped = cleared = 0
    for _ in range(120):
        c = rng.binomial(n, [0.05, 0.05 + rng.choice([-0.01, 0.0, 0.01])])
        mo = Moments.proportion([n, n], c.tolist(), metrics=[metric])
        card = scorecard(mo, metric)
        row = card.row(metric)
        good = row.ci_low > 0 if metric == "up" else row.ci_high < 0
        assert (card.recommendation == "ship") == good, (c, row)
        shipped += card.recommendation == "ship"
        cleared += good
    assert shipped == cleared > 0
