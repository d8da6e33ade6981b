"""Do two concurrent experiments interfere? Assignment dependence and 2 × 2 interactions.

Two experiments in different layers assign independently, so among the units
in both, every pair of variants should appear in proportion (a chi-square
test of independence on the variant × variant counts says when not: a
broken hash, a targeting rule that reads the other's variant). And the
effect of one should not depend on the variant of the other: for each pair
of treatments, the interaction contrast
``(m11 - m10) - (m01 - m00)`` of the cell values, with the standard error
``sqrt(sum of the cells' variances)``, is tested against zero.

:func:`scan` runs both over many pairs and metrics at once (vectorised over
pairs of the same shape) and controls the false-discovery rate over
everything tested (Benjamini–Hochberg), as the portfolio's interaction scan
does. Cells come from sufficient statistics (:class:`Cell`) or from any
estimator's per-cell values and variances (:class:`Grid`, e.g. CUPED-adjusted
or ratio metrics by the delta method).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from tinylift.errors import StatsError
from tinylift.stats.multiple import adjust_p_values

__all__ = [
    "MIN_CELL_UNITS",
    "MIN_EXPECTED",
    "Cell",
    "Grid",
    "assignment_dependence",
    "chi_square",
    "interaction",
    "scan",
]

F64 = NDArray[np.float64]

#: Fewest units in each of the four cells for an interaction contrast's normal
#: approximation (a handful of units per cell gives CUPED-adjusted proportions
#: outside [0, 1] and p-values that mean nothing).
MIN_CELL_UNITS = 100
#: Fewest expected units per cell for the chi-square test of assignment.
MIN_EXPECTED = 5.0


@dataclass(frozen=True)
class Cell:
    """One metric's sufficient statistics in one (variant of A, variant of B) cell."""

    n: int
    total: float
    total_sq: float

    @property
    def mean(self) -> float:
        """The cell's mean."""
        return self.total / self.n

    @property
    def var(self) -> float:
        """The cell's sample variance."""
        if self.n < 2:
            return 0.0
        return max((self.total_sq - self.total**2 / self.n) / (self.n - 1), 0.0)


@dataclass(frozen=True)
class Grid:
    """One pair of experiments: units per cell and, per metric, each cell's estimate.

    ``counts[i, j]``: units in variant ``i`` of A and ``j`` of B (0: control).
    ``metrics[name] = (value, var)``: each cell's estimate and the variance of
    that estimate, both shaped like ``counts``; NaN where a cell has none.
    """

    counts: F64
    metrics: Mapping[str, tuple[F64, F64]] = field(default_factory=dict)

    @classmethod
    def from_cells(cls, by_metric: Mapping[str, Sequence[Sequence[Cell]]]) -> Grid:
        """From :class:`Cell` grids (the counts are the first metric's)."""
        first = next(iter(by_metric.values()))
        counts = np.array([[c.n for c in row] for row in first], dtype=np.float64)
        metrics = {}
        for name, cells in by_metric.items():
            n = np.array([[c.n for c in row] for row in cells], dtype=np.float64)
            ok = n >= 2
            value = np.array([[c.total / c.n if c.n else np.nan for c in row] for row in cells])
            var = np.array([[c.var for c in row] for row in cells]) / np.where(ok, n, 1.0)
            metrics[name] = (np.where(ok, value, np.nan), np.where(ok, var, np.nan))
        return cls(counts, metrics)


def chi_square(tables: ArrayLike) -> tuple[F64, F64]:
    """Pearson's chi-square test of independence of many tables at once.

    ``tables`` is shaped (P, r, c); rows and columns without units are left
    out (a table left with under 2 × 2 gets statistic 0 and p-value 1).

    >>> chi2, p = chi_square([[[250, 250], [250, 250]], [[600, 400], [400, 600]]])
    >>> chi2.round(1).tolist(), bool(p[1] < 1e-10)
    ([0.0, 80.0], True)
    """
    t = np.asarray(tables, dtype=np.float64)
    if t.ndim != 3 or min(t.shape[1:]) < 2:
        raise StatsError("needs tables of at least 2 x 2 counts, shaped (tables, rows, columns)")
    rows, cols = t.sum(axis=2), t.sum(axis=1)
    total = rows.sum(axis=1)
    expected = rows[:, :, None] * cols[:, None, :] / np.where(total > 0, total, 1.0)[:, None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (t - expected) ** 2 / expected, 0.0)
    chi2 = terms.sum(axis=(1, 2))
    df = ((rows > 0).sum(axis=1) - 1) * ((cols > 0).sum(axis=1) - 1)
    p = np.where(df > 0, stats.chi2.sf(chi2, np.maximum(df, 1)), 1.0)
    return np.where(df > 0, chi2, 0.0), p


def assignment_dependence(counts: ArrayLike) -> tuple[float, float]:
    """Chi-square statistic and p-value of independence of two assignments.

    ``counts[i, j]``: units in variant ``i`` of A and ``j`` of B.

    >>> round(assignment_dependence([[250, 250], [250, 250]])[1], 3)
    1.0
    """
    chi2, p = chi_square(np.asarray(counts, dtype=np.float64)[None])
    return float(chi2[0]), float(p[0])


def _contrasts(value: F64, var: F64) -> tuple[F64, F64, F64]:
    """Interaction contrasts of every treatment pair, for tables shaped (P, r, c)."""
    contrast = value[:, 1:, 1:] - value[:, 1:, :1] - value[:, :1, 1:] + value[:, :1, :1]
    se = np.sqrt(var[:, 1:, 1:] + var[:, 1:, :1] + var[:, :1, 1:] + var[:, :1, :1])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(contrast) / se
    p = np.where(se > 0, 2 * stats.norm.sf(z), np.where(contrast == 0, 1.0, 0.0))
    return contrast, se, np.where(np.isnan(contrast) | np.isnan(se), np.nan, p)


def interaction(
    cells: Sequence[Sequence[Cell]], a: int = 1, b: int = 1
) -> tuple[float, float, float]:
    """The interaction contrast of treatment ``a`` of A and ``b`` of B, its SE and p-value.

    ``cells[i][j]`` holds variant ``i`` of A and ``j`` of B (0: control).
    """
    picked = [[cells[i][j] for j in (0, b)] for i in (0, a)]
    if any(c.n < 2 for row in picked for c in row):
        raise StatsError("every cell needs at least two units")
    value, var = Grid.from_cells({"m": picked}).metrics["m"]
    contrast, se, p = _contrasts(value[None], var[None])
    return float(contrast[0, 0, 0]), float(se[0, 0, 0]), float(p[0, 0, 0])


def scan(
    pairs: Mapping[tuple[str, str], Grid | Mapping[str, Sequence[Sequence[Cell]]]],
    *,
    fdr: float = 0.05,
) -> list[dict[str, object]]:
    """Interaction tests over many pairs of experiments and metrics, FDR-controlled.

    ``pairs[(a, b)]`` is a :class:`Grid` of the units in both ``a`` and ``b``
    (or its cells by metric). Every (pair, metric, treatment of A, treatment of
    B) is one test and the assignment-dependence test of each pair one more;
    all share one Benjamini–Hochberg correction. A contrast is tested only
    when each of its four cells holds :data:`MIN_CELL_UNITS` units, the
    assignment only when every cell expects :data:`MIN_EXPECTED`. Returns every
    test with its adjusted p-value and ``flagged``.
    """
    grids = {k: g if isinstance(g, Grid) else Grid.from_cells(g) for k, g in pairs.items()}
    shapes: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for key, g in grids.items():
        shapes.setdefault(g.counts.shape, []).append(key)
    rows: list[dict[str, object]] = []
    for keys in shapes.values():
        counts = np.stack([grids[k].counts for k in keys])
        chi2, p = chi_square(counts)
        rows_, cols_ = counts.sum(axis=2), counts.sum(axis=1)
        expected = rows_[:, :, None] * cols_[:, None, :] / counts.sum(axis=(1, 2))[:, None, None]
        enough = (expected >= MIN_EXPECTED).all(axis=(1, 2))
        for (a, b), c, q, ok in zip(keys, chi2, p, enough, strict=True):
            if not ok:
                continue  # too few shared units for the chi-square approximation
            rows.append(
                {"a": a, "b": b, "test": "assignment", "metric": None,
                 "statistic": float(c), "p": float(q)}
            )  # fmt: skip
        names = list(dict.fromkeys(m for k in keys for m in grids[k].metrics))
        for metric in names:
            have = [k for k in keys if metric in grids[k].metrics]
            value = np.stack([grids[k].metrics[metric][0] for k in have])
            var = np.stack([grids[k].metrics[metric][1] for k in have])
            contrast, se, pv = _contrasts(value, var)
            n = np.stack([grids[k].counts for k in have])
            small = (n[:, 1:, 1:] < MIN_CELL_UNITS) | (n[:, 1:, :1] < MIN_CELL_UNITS)
            small |= (n[:, :1, 1:] < MIN_CELL_UNITS) | (n[:, :1, :1] < MIN_CELL_UNITS)
            for i, (a, b) in enumerate(have):
                for ti in range(contrast.shape[1]):
                    for tj in range(contrast.shape[2]):
                        if np.isnan(pv[i, ti, tj]) or small[i, ti, tj]:
                            continue  # a cell too small for the normal approximation
                        rows.append(
                            {
                                "a": a, "b": b, "test": "interaction", "metric": metric,
                                "treatments": (ti + 1, tj + 1),
                                "contrast": float(contrast[i, ti, tj]),
                                "se": float(se[i, ti, tj]), "p": float(pv[i, ti, tj]),
                            }
                        )  # fmt: skip
    if rows:
        adjusted = adjust_p_values([float(r["p"]) for r in rows], method="bh")  # type: ignore[arg-type]
        for r, q in zip(rows, adjusted, strict=True):
            r["p_adjusted"] = float(q)
            r["flagged"] = bool(q < fdr)
    return rows
