"""Multiple-testing corrections over a family of p-values the caller chooses.

Family-wise error: Bonferroni, Holm (1979), Hochberg (1988). False discovery
rate: Benjamini-Hochberg (1995), Benjamini-Yekutieli (2001). Adjusted
p-values, vectorised; NaN p-values (no test) are left out of the family.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tinylift.errors import StatsError

__all__ = ["CORRECTIONS", "Correction", "adjust_p_values"]

Correction = Literal["bonferroni", "holm", "hochberg", "bh", "by"]
CORRECTIONS: tuple[Correction, ...] = ("bonferroni", "holm", "hochberg", "bh", "by")


def adjust_p_values(p_values: ArrayLike, method: Correction = "holm") -> NDArray[np.float64]:
    """Adjusted p-values of one family (any shape); reject where adjusted < alpha.

    >>> adjust_p_values([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=np.float64)
    flat = p.ravel()
    ok = ~np.isnan(flat)
    q = flat[ok]
    if ((q < 0) | (q > 1)).any():
        raise StatsError("p-values must lie between 0 and 1")
    m = len(q)
    out = np.full_like(flat, np.nan)
    if m == 0:
        return out.reshape(p.shape)
    order = np.argsort(q, kind="stable")
    sorted_p = q[order]
    rank = np.arange(1, m + 1)
    if method == "bonferroni":
        adj_sorted = np.minimum(sorted_p * m, 1.0)
    elif method == "holm":
        adj_sorted = np.minimum(np.maximum.accumulate(sorted_p * (m - rank + 1)), 1.0)
    elif method == "hochberg":
        adj_sorted = np.minimum(np.minimum.accumulate((sorted_p * (m - rank + 1))[::-1])[::-1], 1.0)
    elif method in ("bh", "by"):
        c = np.sum(1.0 / rank) if method == "by" else 1.0
        adj_sorted = np.minimum(np.minimum.accumulate((sorted_p * m * c / rank)[::-1])[::-1], 1.0)
    else:
        raise StatsError(f"correction must be one of {', '.join(CORRECTIONS)}; got {method!r}")
    adj = np.empty(m)
    adj[order] = adj_sorted
    out[ok] = adj
    return out.reshape(p.shape)
