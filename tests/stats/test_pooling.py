"""Pooling many experiments: checked by simulation, with Monte Carlo tolerances."""

from __future__ import annotations

import numpy as np
import pytest

from tinylift.stats.pooling import (
    MIN_EXPERIMENTS,
    corrected_total,
    false_positive_risk,
    selection_bias,
    shrink,
)

PROGRAMS = 200


def program(rng: np.random.Generator, kind: str, n: int = 80) -> tuple[np.ndarray, ...]:
    """A program of ``n`` experiments: true effects, estimates, standard errors."""
    s = rng.uniform(0.5, 2.0, n)
    if kind == "sparse":  # most ideas do nothing; the rest heavy-tailed, either way
        a = np.where(rng.random(n) < 0.6, 0.0, rng.standard_t(3, n))
    elif kind == "small-positive":  # many small wins, as in a mature product
        a = rng.normal(0.3, 0.5, n)
    else:  # nothing works
        a = np.zeros(n)
    x = a + s * rng.standard_normal(n)
    return a, x, s


@pytest.mark.parametrize("kind", ["sparse", "small-positive", "null"])
def test_the_corrected_interval_covers_the_true_total_of_what_shipped(kind: str) -> None:
    rng = np.random.default_rng({"sparse": 1, "small-positive": 2, "null": 3}[kind])
    covered, naive_error, corrected_error = [], [], []
    while len(covered) < PROGRAMS:
        a, x, s = program(rng, kind)
        shipped = x > 1.96 * s
        if not shipped.any():
            continue
        r = corrected_total(x, s, shipped, seed=len(covered), n_boot=300)
        truth = a[shipped].sum()
        covered.append(r.ci_low <= truth <= r.ci_high)
        naive_error.append(r.naive - truth)
        corrected_error.append(r.corrected - truth)
    coverage = np.mean(covered)
    mc_se = np.sqrt(0.95 * 0.05 / PROGRAMS)
    assert abs(coverage - 0.95) <= 3 * mc_se, coverage
    # the naive total overstates what shipped; the corrected one does not, on average
    naive, corrected = np.array(naive_error), np.array(corrected_error)
    assert naive.mean() > 3 * naive.std() / np.sqrt(PROGRAMS), naive.mean()
    assert abs(corrected.mean()) < 3 * corrected.std() / np.sqrt(PROGRAMS), corrected.mean()


def test_the_plug_in_bias_matches_lee_and_shen_formula() -> None:
    x, s, b = np.array([1.0, 2.5]), np.array([1.0, 1.0]), np.array([1.96, 1.96])
    from scipy import stats

    assert np.allclose(selection_bias(x, s, b), s * stats.norm.pdf((b - x) / s))


def test_few_experiments_say_so_instead_of_correcting() -> None:
    r = corrected_total([1.0, 3.0, 0.2], [1.0, 1.0, 1.0], [False, True, False])
    assert r.experiments < MIN_EXPERIMENTS
    assert r.naive == 3.0
    assert np.isnan(r.corrected)


def test_shrinkage_posterior_means_beat_the_raw_estimates() -> None:
    rng = np.random.default_rng(7)
    raw, normal, mixture = [], [], []
    for _ in range(50):
        a, x, s = program(rng, "sparse", n=200)
        raw.append(np.mean((x - a) ** 2))
        normal.append(np.mean((shrink(x, s, prior="normal").posterior_mean - a) ** 2))
        mixture.append(np.mean((shrink(x, s).posterior_mean - a) ** 2))
    assert np.mean(normal) < 0.8 * np.mean(raw)
    assert np.mean(mixture) < np.mean(normal)  # the heavy-tailed prior fits sparse effects


def test_shrunken_intervals_cover_the_true_effects() -> None:
    rng = np.random.default_rng(8)
    inside = []
    for _ in range(40):  # normal effects: the normal prior's posteriors are normal
        s = rng.uniform(0.2, 0.6, 200)  # precise enough for the prior's spread to be learnt
        a = rng.normal(0.3, 0.5, 200)
        x = a + s * rng.standard_normal(200)
        r = shrink(x, s, prior="normal")
        inside.append(np.abs(r.posterior_mean - a) <= 1.96 * r.posterior_sd)
    coverage = np.mean(inside)
    assert abs(coverage - 0.95) < 0.02, coverage  # 8,000 effects: the MC SE is 0.0024


def test_false_positive_risk_follows_kohavi_deng_and_vermeer() -> None:
    # their example: a 10 % win rate with alpha 0.05 and 80 % power
    r = false_positive_risk(10, 100, alpha=0.05, power=0.8)
    pi = (0.8 - 0.1) / (0.8 - 0.025)
    assert r["null_share"] == pytest.approx(pi)
    assert r["fpr"] == pytest.approx(0.025 * pi / 0.1)
    assert false_positive_risk(2, 100)["fpr"] == 1.0  # below alpha / 2: every win may be false
    assert false_positive_risk(80, 100)["fpr"] == 0.0
