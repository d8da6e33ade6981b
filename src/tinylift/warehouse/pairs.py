"""Pairs of concurrent experiments: their shared units, cell by cell, in the same scan.

The refresh's per-unit table holds one row per (experiment, unit) with every
metric measured from that unit's entry. Joined with itself on the unit, it
gives, for each pair ``(a, b)`` asked for, the units in both experiments by
(variant of ``a``, variant of ``b``), with ``a``'s metrics summed per cell:
what the interaction scan needs, without reading exposures or events again.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations_with_replacement
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

from tinylift.stats.moments import Moments
from tinylift.warehouse.contract import ExperimentWindow, PairStats
from tinylift.warehouse.plan import Plan

__all__ = ["KEYS", "pair_query", "pair_stats"]

#: The pair query's group keys.
KEYS = ["experiment_key", "variant_key", "b_key", "b_variant"]


def _index(plan: Plan, metrics: Sequence[str]) -> dict[str, int]:
    """Each moment metric's position in the plan (its ``x{j}_`` and ``w{j}`` columns)."""
    where = {m.name: j for j, m in enumerate(plan.metrics)}
    return {m: where[m] for m in dict.fromkeys(metrics) if m in where}


def pair_query(
    table: ir.Table,
    units: ir.Table,
    plan: Plan,
    pairs: Sequence[tuple[str, str]],
    metrics: Sequence[str],
) -> ir.Table:
    """Per (a, variant of a, b, variant of b): units in both, and a's metrics' sums.

    ``table`` is the per-unit table with metric columns (``query.finish``),
    ``units`` the same rows before them; units seen in several variants of
    either experiment are left out.
    """
    wanted = ibis.memtable({"pair_a": [a for a, _ in pairs], "pair_b": [b for _, b in pairs]})
    a = table.filter(~table.mixed)
    b = units.filter(~units.mixed).select(
        b_key=units.experiment_key, b_unit=units.unit_id, b_variant=units.variant_key
    )
    j = a.join(b, a.unit_id == b.b_unit)
    j = j.join(wanted, [j.experiment_key == wanted.pair_a, j.b_key == wanted.pair_b])
    aggs: dict[str, ir.Value] = {"n": j.count()}
    for name, k in _index(plan, metrics).items():
        cols = [f"x{k}_{c}" for c in range(len(plan.columns[name]))]
        aggs[f"n{k}"] = j[f"w{k}"].sum()
        for c, col in enumerate(cols):
            aggs[f"s{k}_{c}"] = j[col].sum()
        for (c, ca), (d, cb) in combinations_with_replacement(list(enumerate(cols)), 2):
            aggs[f"q{k}_{c}_{d}"] = (j[ca] * j[cb]).sum()
    return j.group_by(KEYS).aggregate(**aggs)


def pair_stats(
    rows: list[dict[str, Any]],
    windows: Sequence[ExperimentWindow],
    plan: Plan,
    pairs: Sequence[tuple[str, str]],
    metrics: Sequence[str],
) -> dict[tuple[str, str], PairStats]:
    """Assemble the pair query's rows into one :class:`PairStats` per pair with units."""
    variants = {w.key: w.variants for w in windows}
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        by_pair.setdefault((r["experiment_key"], r["b_key"]), []).append(r)
    index = _index(plan, metrics)
    out: dict[tuple[str, str], PairStats] = {}
    for a, b in pairs:
        found = by_pair.get((a, b))
        if not found:
            continue
        va, vb = variants[a], variants[b]
        cell = {(r["variant_key"], r["b_variant"]): r for r in found}
        counts = np.array(
            [[int(cell[(x, y)]["n"]) if (x, y) in cell else 0 for y in vb] for x in va]
        )
        if counts.sum() == 0:
            continue
        moments: dict[str, Moments] = {}
        names = [f"{x}|{y}" for x in va for y in vb]
        for name, k in index.items():
            p = len(plan.columns[name])
            n = np.zeros((1, len(names)))
            s = np.zeros((1, len(names), p))
            ss = np.zeros((1, len(names), p, p))
            for i, (x, y) in enumerate((x, y) for x in va for y in vb):
                if (x, y) not in cell:
                    continue
                r = cell[(x, y)]
                n[0, i] = r[f"n{k}"] or 0.0
                for c in range(p):
                    s[0, i, c] = r[f"s{k}_{c}"] or 0.0
                for c, d in combinations_with_replacement(range(p), 2):
                    ss[0, i, c, d] = ss[0, i, d, c] = r[f"q{k}_{c}_{d}"] or 0.0
            moments[name] = Moments.from_sums(
                plan.kinds[name], n, s, ss, metrics=[name], variants=names
            )
        out[(a, b)] = PairStats(a, b, va, vb, counts, moments)
    return out
