"""Market-level estimators: published results on a real panel, and simulations.

The real panel is California's Proposition 99 (per-capita cigarette sales,
39 states, 1970-2000; the 1989 tax is the treatment), as shipped inside the
``synthdid-py`` package. Published figures: Arkhangelsky, Athey, Hirshberg,
Imbens and Wager (2021), "Synthetic Difference-in-Differences", American
Economic Review 111(12), Table 1: DID -27.3, SC -19.6.
"""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from tinylift.demo.markets import (
    MARKETS,
    PACKAGING_LIFT,
    PACKAGING_MARKETS,
    PACKAGING_START,
    baseline,
    demo_series,
    staggered_lift,
)
from tinylift.errors import StatsError
from tinylift.stats.markets import did, staggered, synthetic_control, twfe

ALPHA = 0.05
SIMS = 1000


@pytest.fixture(scope="module")
def prop99() -> tuple[np.ndarray, np.ndarray, int, list[str]]:
    data = pd.read_csv(files("synthdid").joinpath("data/california_prop99.csv"), sep=";")
    wide = data.pivot(index="State", columns="Year", values="PacksPerCapita")
    treated = np.array([s == "California" for s in wide.index])
    return wide.to_numpy(), treated, list(wide.columns).index(1989), list(wide.index)


def test_prop99_difference_in_differences_matches_table_1(prop99) -> None:  # type: ignore[no-untyped-def]
    y, treated, start, _ = prop99
    r = did(y, treated, start)
    assert round(r.effect, 1) == -27.3  # Arkhangelsky et al. (2021), Table 1, DID
    # by hand: California's change against the 38 other states' average change
    d = y[:, start:].mean(axis=1) - y[:, :start].mean(axis=1)
    assert r.effect == pytest.approx(d[treated][0] - d[~treated].mean(), rel=1e-12)
    # Fisher's test: each other state analysed as if it alone had been treated
    others = [d[s] - np.delete(d, s).mean() for s in np.flatnonzero(~treated)]
    extreme = sum(abs(e) >= abs(r.effect) for e in others)
    assert r.p_value == pytest.approx((1 + extreme) / 39, rel=1e-12)


def test_prop99_synthetic_control_matches_table_1(prop99) -> None:  # type: ignore[no-untyped-def]
    y, treated, start, states = prop99
    r = synthetic_control(y, treated, start, solver="frank-wolfe", draws=20, pre_trend=False)
    assert round(r.effect, 1) == -19.6  # Arkhangelsky et al. (2021), Table 1, SC
    exact = synthetic_control(y, treated, start)
    # the exact minimiser of the same fit lands within a fraction of a pack
    assert exact.effect == pytest.approx(r.effect, abs=0.2)
    assert exact.weights.sum() == pytest.approx(1.0, abs=1e-9)
    assert (exact.weights >= 0).all()
    donors = [s for s, t in zip(states, treated, strict=True) if not t]
    top = {donors[i] for i in np.argsort(exact.weights)[-3:]}
    assert top == {"Utah", "Montana", "Nevada"}  # the donors the literature reports
    assert exact.pre_rmspe < 2.0  # California's path before 1989 is matched closely
    penalised = synthetic_control(y, treated, start, penalty=0.05)
    assert (penalised.weights > 1e-6).sum() > (exact.weights > 1e-6).sum()


def _null_sims(effect: float) -> dict[str, tuple[float, float]]:
    """Tests on the demo's markets (log weekly sell-through), 5 of 40 markets treated at
    random from week 78, with ``effect`` added to each treated market (heterogeneous)."""
    rng = np.random.default_rng(2026)
    out: dict[str, list[tuple[bool, bool]]] = {"did": [], "sc": []}
    for i in range(SIMS):
        y = np.log(baseline(10_000 + i).sell_through)
        treated = np.zeros(len(MARKETS), bool)
        treated[rng.choice(len(MARKETS), 5, replace=False)] = True
        lift = effect * rng.uniform(0.5, 1.5, treated.sum())
        y[treated, PACKAGING_START:] += lift[:, None]
        truth = lift.mean()
        for name, fit in (("did", did), ("sc", synthetic_control)):
            r = fit(y, treated, PACKAGING_START, draws=99, seed=i, pre_trend=False)
            assert r.p_value is not None
            out[name].append((r.p_value <= ALPHA, r.low <= truth <= r.high))
    return {k: tuple(np.mean(v, axis=0)) for k, v in out.items()}  # type: ignore[misc]


@pytest.mark.slow
def test_null_market_tests_hold_their_size() -> None:
    mcse = np.sqrt(ALPHA * (1 - ALPHA) / SIMS)
    for name, (reject, _) in _null_sims(0.0).items():
        assert abs(reject - ALPHA) <= 3 * mcse, (name, reject)


@pytest.mark.slow
def test_intervals_cover_a_true_effect_at_the_nominal_rate() -> None:
    mcse = np.sqrt(0.95 * 0.05 / SIMS)
    for name, (_, cover) in _null_sims(np.log1p(PACKAGING_LIFT)).items():
        assert abs(cover - 0.95) <= 3 * mcse, (name, cover)


def test_the_demo_packaging_change_is_recovered_within_its_interval() -> None:
    series = demo_series()
    y = np.log(series.metrics["sell_through"])
    treated = series.rows(list(PACKAGING_MARKETS))
    truth = np.log1p(PACKAGING_LIFT)
    for r in (
        did(y, treated, PACKAGING_START),
        synthetic_control(y, treated, PACKAGING_START),
    ):
        assert r.low <= truth <= r.high, r
        assert r.p_value is not None
        assert len(r.gap) == len(series.periods)
        assert r.cumulative[-1] == pytest.approx(r.gap[PACKAGING_START:].sum())


def test_a_design_that_cannot_hold_its_size_gives_no_p_value() -> None:
    y = np.log(baseline(3).sell_through)
    few = np.zeros(10, bool)
    few[0] = True  # 10 markets, 1 treated: 10 possible assignments, p >= 0.1
    r = synthetic_control(y[:10], few, 78)
    assert r.p_value is None
    assert "smallest p-value possible is 0.100" in r.note
    treated = np.zeros(len(MARKETS), bool)
    treated[:5] = True
    short = did(y[:, 75:], treated, 3)  # three weeks before the start
    assert short.p_value is None
    assert "only 3 periods before the start" in short.note
    assert did(y, treated, 78).p_value is not None


def test_diverging_pre_trends_are_flagged() -> None:
    y = np.log(baseline(4).sell_through)
    treated = np.zeros(len(MARKETS), bool)
    treated[::5] = True
    y[treated] += 0.004 * np.arange(y.shape[1])  # treated markets drift up all along
    r = did(y, treated, 78)
    assert r.pre_trend_p is not None
    assert r.pre_trend_p < ALPHA
    assert "pre-trend" in r.note
    clean = did(np.log(baseline(4).sell_through), treated, 78)
    assert "pre-trend" not in clean.note


def test_staggered_rollout_is_unbiased_where_two_way_fixed_effects_is_not() -> None:
    """Cohorts of 10 markets adopt at weeks 40, 60 and 80 (chosen at random), the lift
    growing with time since adoption; 10 markets never adopt."""
    weeks = np.arange(104)
    cohorts = (40, 60, 80)
    truth = np.concatenate([np.log1p(staggered_lift(weeks[w:] - w)) for w in cohorts]).mean()
    cs, fe = [], []
    for i in range(300):
        rng = np.random.default_rng(i)
        y = np.log(baseline(20_000 + i).sell_through)
        g = np.full(len(MARKETS), -1)
        order = rng.permutation(len(MARKETS))
        for j, w in enumerate(cohorts):
            g[order[10 * j : 10 * j + 10]] = w
        for k in np.flatnonzero(g >= 0):
            y[k] += np.log1p(staggered_lift(weeks - g[k]))
        cs.append(staggered(y, g, draws=0).effect)
        fe.append(twfe(y, g, draws=0).effect)
    se_cs = np.std(cs, ddof=1) / np.sqrt(len(cs))
    se_fe = np.std(fe, ddof=1) / np.sqrt(len(fe))
    assert abs(np.mean(cs) - truth) <= 3 * se_cs
    assert np.mean(fe) - truth < -5 * se_fe  # biased towards zero: late vs early cohorts
    one = staggered(y, g, draws=99)
    assert one.low <= one.effect <= one.high
    assert list(one.event_time[:3]) == [0, 1, 2]
    assert one.by_event_time[0] < one.by_event_time[20]  # the lift grows


def test_bad_panels_say_what_is_wrong() -> None:
    y = np.ones((5, 10))
    with pytest.raises(StatsError, match="flag each of the 5 markets"):
        did(y, [True, False], 5)
    with pytest.raises(StatsError, match="at least one treated and two control"):
        did(y, [True] * 4 + [False], 5)
    bad = y.copy()
    bad[2, 3] = np.nan
    with pytest.raises(StatsError, match=r"missing value \(market 2, period 3\)"):
        did(bad, [True] + [False] * 4, 5)
    with pytest.raises(StatsError, match="the start"):
        synthetic_control(y, [True] + [False] * 4, 10)
    with pytest.raises(StatsError, match="solver"):
        synthetic_control(y, [True] + [False] * 4, 5, solver="magic")
    with pytest.raises(StatsError, match="two markets never treated"):
        staggered(y, [2, 3, 4, 5, -1])
