"""Interaction scan: found when present, false alarms at most alpha when absent."""

from __future__ import annotations

import numpy as np
import pytest

from tinylift.stats.interactions import (
    MIN_CELL_UNITS,
    Cell,
    Grid,
    assignment_dependence,
    chi_square,
    interaction,
    scan,
)


def cells_of(
    y: np.ndarray, va: np.ndarray, vb: np.ndarray, k: int = 2, m: int = 2
) -> list[list[Cell]]:
    return [
        [
            Cell(int(((va == i) & (vb == j)).sum()), float(y[(va == i) & (vb == j)].sum()),
                 float((y[(va == i) & (vb == j)] ** 2).sum()))
            for j in range(m)
        ]
        for i in range(k)
    ]  # fmt: skip


def two_experiments(
    rng: np.random.Generator, n: int, lift_a: float, lift_b: float, both: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    va = rng.integers(0, 2, n)
    vb = rng.integers(0, 2, n)
    y = rng.normal(10, 3, n) + lift_a * va + lift_b * vb + both * va * vb
    return y, va, vb


def test_the_contrast_matches_a_regression_with_an_interaction_term() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(1)
    y, va, vb = two_experiments(rng, 20_000, 0.2, 0.1, 0.3)
    contrast, se, p = interaction(cells_of(y, va, vb))
    assert p < 1e-3  # 0.3 against an SE of about 0.085
    X = sm.add_constant(np.column_stack([va, vb, va * vb]))
    fit = sm.OLS(y, X).fit(cov_type="HC0")
    assert contrast == pytest.approx(fit.params[3], rel=1e-9)
    assert se == pytest.approx(fit.bse[3], rel=0.02)  # per-cell variances vs a sandwich


def test_a_simulated_interaction_is_found() -> None:
    rng = np.random.default_rng(2)
    y, va, vb = two_experiments(rng, 40_000, 0.2, 0.1, 0.3)
    tests = scan({("pdp", "promo"): {"revenue": cells_of(y, va, vb)}})
    found = [t for t in tests if t["test"] == "interaction" and t["flagged"]]
    assert [(t["a"], t["b"], t["metric"]) for t in found] == [("pdp", "promo", "revenue")]


def test_over_null_simulations_the_false_alarm_rate_is_at_most_alpha() -> None:
    rng = np.random.default_rng(3)
    sims, alarms = 400, 0
    for _ in range(sims):
        pairs = {}
        for k in range(5):  # five pairs, two metrics each, no interaction anywhere
            y, va, vb = two_experiments(rng, 2_000, 0.3, 0.2, 0.0)
            y2 = y + rng.normal(0, 1, len(y))
            pairs[(f"a{k}", f"b{k}")] = {"m1": cells_of(y, va, vb), "m2": cells_of(y2, va, vb)}
        alarms += any(t["flagged"] for t in scan(pairs))
    rate = alarms / sims
    # BH at 0.05 with every null true controls the family-wise rate at 0.05 too
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / sims), rate


def test_assignments_that_depend_on_each_other_are_flagged() -> None:
    assert assignment_dependence([[500, 500], [500, 500]])[1] == pytest.approx(1.0)
    chi2, p = assignment_dependence([[600, 400], [400, 600]])
    assert p < 1e-10
    assert chi2 == pytest.approx(80.0)


def test_the_batch_chi_square_matches_scipy_table_by_table() -> None:
    from scipy.stats import chi2_contingency

    rng = np.random.default_rng(4)
    tables = rng.integers(0, 400, size=(50, 3, 2)).astype(float)
    tables[3, 1, :] = 0  # an empty row: left out, as scipy needs
    chi2, p = chi_square(tables)
    for t, c, q in zip(tables, chi2, p, strict=True):
        kept = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
        ref = chi2_contingency(kept, correction=False)
        assert c == pytest.approx(ref[0], rel=1e-10)
        assert q == pytest.approx(ref[1], rel=1e-9, abs=1e-300)


def test_a_grid_of_estimates_scans_like_its_cells() -> None:
    rng = np.random.default_rng(5)
    y, va, vb = two_experiments(rng, 10_000, 0.2, 0.1, 0.2)
    cells = cells_of(y, va, vb)
    grid = Grid.from_cells({"revenue": cells})
    [_, by_grid] = scan({("a", "b"): grid})
    contrast, se, p = interaction(cells)
    assert by_grid["contrast"] == pytest.approx(contrast, rel=1e-12)
    assert by_grid["se"] == pytest.approx(se, rel=1e-12)
    assert by_grid["p"] == pytest.approx(p, rel=1e-9)


def test_cells_too_small_for_the_normal_approximation_are_not_tested() -> None:
    """Nine, sixteen, eighteen and five units: the contrast of CUPED-adjusted
    proportions in such cells is nonsense (it was -1.02, 'p = 2e-7')."""
    rng = np.random.default_rng(6)
    y, va, vb = two_experiments(rng, 48, 0.0, 0.0, 0.0)
    tests = scan({("a", "b"): {"conversion": cells_of((y > 10).astype(float), va, vb)}})
    assert [t for t in tests if t["test"] == "interaction"] == []
    y, va, vb = two_experiments(rng, 4 * MIN_CELL_UNITS + 400, 0.0, 0.0, 0.0)
    tests = scan({("a", "b"): {"conversion": cells_of((y > 10).astype(float), va, vb)}})
    assert [t["test"] for t in tests] == ["assignment", "interaction"]
