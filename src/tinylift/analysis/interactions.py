"""The interaction scan of one analysis: every concurrent pair, one FDR family.

Experiments in different layers share units. For every pair that enrolled at
the same time, the refresh returns the shared units by (variant, variant)
cell (:class:`~tinylift.warehouse.contract.PairStats`); this module turns the
cells of the OEC and guardrails of either experiment into estimates (CUPED
where a pre-period is defined, the delta method for ratios), tests assignment
dependence and every 2 × 2 interaction contrast (:mod:`tinylift.stats.interactions`),
and adds a warning to both scorecards of each flagged pair.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from tinylift.analysis.plan import ExperimentPlan
from tinylift.analysis.scorecard import Check, Scorecard
from tinylift.errors import StatsError
from tinylift.stats.moments import Moments
from tinylift.warehouse.contract import PairStats

__all__ = ["concurrent_pairs", "flag_scorecards", "scan_metrics", "scan_pairs"]

#: Roles whose metrics the scan tests (quantile metrics are not summed per cell).
ROLES = ("oec", "guardrail")


def concurrent_pairs(plans: Sequence[ExperimentPlan]) -> list[tuple[str, str]]:
    """Every pair of experiments that enrolled at the same time in different layers."""
    return [(a.key, b.key) for a, b in combinations(plans, 2) if a.concurrent_with(b)]


def scan_metrics(plans: Sequence[ExperimentPlan]) -> list[str]:
    """The metrics any pair may be tested on: OEC and guardrails (no quantiles)."""
    return list(
        dict.fromkeys(
            m.name for p in plans for m in p.metrics if m.role in ROLES and m.kind != "quantile"
        )
    )


def scan_pairs(
    pairs: Mapping[tuple[str, str], PairStats],
    plans: Sequence[ExperimentPlan],
    *,
    fdr: float = 0.05,
) -> list[dict[str, Any]]:
    """Every test of the scan (assignment dependence, interaction contrasts), FDR-controlled.

    A pair is tested on the OEC and guardrails of either experiment, measured
    in the first one's windows.
    """
    from tinylift.stats.interactions import Grid, scan

    by_key = {p.key: p for p in plans}
    # each metric's cells of every pair at once: one Moments with a row per pair
    groups: dict[tuple[str, tuple[int, ...]], list[tuple[tuple[str, str], Moments]]] = {}
    for (a, b), ps in pairs.items():
        names = [
            m.name
            for p in (by_key[a], by_key[b])
            for m in p.metrics
            if m.role in ROLES and m.name in ps.metrics
        ]
        for name in dict.fromkeys(names):
            mo = ps.metrics[name]
            if (mo.n[0] >= 2).all():  # else a cell without two units with a complete window
                groups.setdefault((name, ps.counts.shape), []).append(((a, b), mo))
    estimates: dict[tuple[str, str], dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for (name, shape), members in groups.items():
        for key, value, var in _estimates(members):
            estimates.setdefault(key, {})[name] = (value.reshape(shape), var.reshape(shape))
    grids = {
        key: Grid(np.asarray(ps.counts, dtype=np.float64), estimates.get(key, {}))
        for key, ps in pairs.items()
    }
    return scan(grids, fdr=fdr)


def _estimates(
    members: Sequence[tuple[tuple[str, str], Moments]],
) -> list[tuple[tuple[str, str], np.ndarray, np.ndarray]]:
    """Cell values and variances of one metric over many pairs (vectorised; one pair at a
    time only if some pair's cells cannot be estimated, which are then left out)."""
    first = members[0][1]
    stacked = Moments(
        first.kind,
        np.concatenate([mo.n for _, mo in members]),
        np.concatenate([mo.s for _, mo in members]),
        np.concatenate([mo.ss for _, mo in members]),
        tuple(f"{a}|{b}" for (a, b), _ in members),
        first.variants,
    )
    try:
        est = stacked.arm_estimates(cuped=first.has_covariate)
        return [(key, est.value[i], est.var[i]) for i, (key, _) in enumerate(members)]
    except StatsError:
        out = []
        for key, mo in members:
            try:
                one = mo.arm_estimates(cuped=mo.has_covariate)
            except StatsError:
                continue  # e.g. a ratio whose denominator is zero in a cell
            out.append((key, one.value[0], one.var[0]))
        return out


def flag_scorecards(
    cards: Mapping[str, Scorecard], tests: Sequence[dict[str, Any]]
) -> dict[str, Scorecard]:
    """Each scorecard with the flagged tests that involve it, and a warning check."""
    flagged = [t for t in tests if t.get("flagged")]
    out = dict(cards)
    for key, card in cards.items():
        mine = [_plain(t) for t in flagged if key in (t["a"], t["b"])]
        if not mine:
            continue
        out[key] = dataclasses.replace(
            card,
            interactions=tuple(mine),
            checks=(*card.checks, _check(key, mine)),
        )
    return out


def _plain(test: dict[str, Any]) -> dict[str, Any]:
    out = dict(test)
    if "treatments" in out:
        out["treatments"] = list(out["treatments"])
    return out


def _check(key: str, tests: Sequence[dict[str, Any]]) -> Check:
    parts = []
    for t in tests:
        other = t["b"] if t["a"] == key else t["a"]
        if t["test"] == "assignment":
            parts.append(f"its assignment depends on {other}'s (chi-square p = {t['p']:.2g})")
        else:
            parts.append(
                f"with {other}, {t['metric']} moves by {t['contrast']:+.4g} more when both "
                f"treatments meet than the two effects add up to (q = {t['p_adjusted']:.2g})"
            )
    return Check(
        name="interaction",
        status="warn",
        message="Interaction with a concurrent experiment: " + "; ".join(parts),
        details={"tests": [dict(t) for t in tests]},
    )
