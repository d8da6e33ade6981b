"""Do two concurrent experiments interfere? Assignment dependence and 2 × 2 interactions.

Two experiments in different layers assign independently, so among the units
in both, every pair of variants should appear in proportion (a chi-square
test of independence on the variant × variant counts says when not: a
broken hash, a targeting rule that reads the other's variant). And the
effect of one should not depend on the variant of the other: for each pair
of treatments, the interaction contrast
``(m11 - m10) - (m01 - m00)`` of the cell means, with the standard error
``sqrt(sum v_ij / n_ij)``, is tested against zero.

:func:`scan` runs both over many pairs and metrics from per-cell sufficient
statistics and controls the false-discovery rate over everything tested
(Benjamini–Hochberg), as the portfolio's interaction scan does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from tinylift.errors import StatsError
from tinylift.stats.multiple import adjust_p_values

__all__ = ["Cell", "assignment_dependence", "interaction", "scan"]


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


def assignment_dependence(counts: ArrayLike) -> tuple[float, float]:
    """Chi-square statistic and p-value of independence of two assignments.

    ``counts[i, j]``: units in variant ``i`` of A and ``j`` of B.

    >>> round(assignment_dependence([[250, 250], [250, 250]])[1], 3)
    1.0
    """
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2 or min(table.shape) < 2:
        raise StatsError("needs a table of at least 2 x 2 counts")
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return 0.0, 1.0
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    return float(chi2), float(p)


def interaction(
    cells: Sequence[Sequence[Cell]], a: int = 1, b: int = 1
) -> tuple[float, float, float]:
    """The interaction contrast of treatment ``a`` of A and ``b`` of B, its SE and p-value.

    ``cells[i][j]`` holds variant ``i`` of A and ``j`` of B (0: control).
    """
    c00, c01, ca0, cab = cells[0][0], cells[0][b], cells[a][0], cells[a][b]
    group = (c00, c01, ca0, cab)
    if any(c.n < 2 for c in group):
        raise StatsError("every cell needs at least two units")
    contrast = (cab.mean - ca0.mean) - (c01.mean - c00.mean)
    se = float(np.sqrt(sum(c.var / c.n for c in group)))
    if se == 0:
        return contrast, 0.0, 1.0 if contrast == 0 else 0.0
    p = float(2 * stats.norm.sf(abs(contrast) / se))
    return contrast, se, p


def scan(
    pairs: Mapping[tuple[str, str], Mapping[str, Sequence[Sequence[Cell]]]],
    *,
    fdr: float = 0.05,
) -> list[dict[str, object]]:
    """Interaction tests over many pairs of experiments and metrics, FDR-controlled.

    ``pairs[(a, b)][metric]`` holds the cells of the units in both ``a`` and
    ``b``. Every (pair, metric, treatment of A, treatment of B) is one test and
    the assignment-dependence test of each pair one more; all share one
    Benjamini–Hochberg correction. Returns every test with its adjusted
    p-value and ``flagged``.
    """
    rows: list[dict[str, object]] = []
    for (a, b), by_metric in pairs.items():
        first = next(iter(by_metric.values()), None)
        if first is None:
            continue
        counts = [[c.n for c in row] for row in first]
        chi2, p = assignment_dependence(counts)
        rows.append(
            {"a": a, "b": b, "test": "assignment", "metric": None, "statistic": chi2, "p": p}
        )
        for metric, cells in by_metric.items():
            for i in range(1, len(cells)):
                for j in range(1, len(cells[0])):
                    try:
                        contrast, se, p = interaction(cells, i, j)
                    except StatsError:
                        continue
                    rows.append(
                        {
                            "a": a, "b": b, "test": "interaction", "metric": metric,
                            "treatments": (i, j), "contrast": contrast, "se": se, "p": p,
                        }
                    )  # fmt: skip
    if rows:
        adjusted = adjust_p_values([float(r["p"]) for r in rows], method="bh")  # type: ignore[arg-type]
        for r, q in zip(rows, adjusted, strict=True):
            r["p_adjusted"] = float(q)
            r["flagged"] = bool(q < fdr)
    return rows
