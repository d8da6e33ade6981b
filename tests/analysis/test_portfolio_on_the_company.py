"""The portfolio of the simulated company, whose true effects are known."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest

from tinylift.analysis.interactions import concurrent_pairs
from tinylift.analysis.plan import plan_from_registry
from tinylift.demo.company import interactions
from tinylift.demo.dataset import Company
from tinylift.demo.record import RecordSummary
from tinylift.demo.simulate import START
from tinylift.metrics import Catalog
from tinylift.portfolio import Record, build
from tinylift.registry import Registry, list_experiments
from tinylift.service.portfolio import infos_of, records_of
from tinylift.stats.interactions import Grid, scan
from tinylift.warehouse.engine import DuckDBEngine
from tinylift.warehouse.plan import Plan
from tinylift.warehouse.query import finish, units_of

#: The company's risk-aware rule ships almost nothing at this size; a bolder team
#: ships every OEC gain significant at this level (and the portfolio is told so).
BOLD_ALPHA = 0.35


def bolder(recs: list[Record]) -> list[Record]:
    z = NormalDist().inv_cdf(1 - BOLD_ALPHA / 2)
    out = []
    for r in recs:
        row = r.row("conversion") if r.kind == "experiment" and r.outcome else None
        if row is not None:
            ship = row.effect > z * row.se
            r = dataclasses.replace(
                r,
                outcome="ship" if ship else "abandon",
                shipped_variant=row.variant if ship else None,
            )
        out.append(r)
    return out


@pytest.fixture(scope="module")
def company(
    recorded: tuple[RecordSummary, Registry], large_company: Company, catalog: Catalog
) -> dict[str, Any]:
    _, reg = recorded
    recs = bolder(records_of(reg))
    truth = {
        (t["experiment_key"], t["variant_key"], t["metric"]): t["true_abs_effect"]
        for t in large_company.truth.to_pylist()
    }
    shipped = {r.key: r.shipped_variant for r in recs if r.shipped}
    return {
        "portfolio": build(recs, infos_of(catalog), ship_alpha=BOLD_ALPHA).to_dict(),
        "truth": truth,
        "shipped": shipped,
    }


def test_the_corrected_total_covers_the_truth_and_the_naive_sum_overstates_it(
    company: dict[str, Any],
) -> None:
    oec = next(m for m in company["portfolio"]["impact"] if m["metric"] == "conversion")
    true_total = sum(company["truth"][(k, v, "conversion")] for k, v in company["shipped"].items())
    c = oec["corrected"]
    assert oec["shipped"] >= 5
    assert c["ci_low"] <= true_total <= c["ci_high"]
    assert oec["naive"] > 2 * true_total  # the winner's curse, several times over


def test_the_holdout_reconciles_with_the_corrected_total(company: dict[str, Any]) -> None:
    [check] = [h for h in company["portfolio"]["holdout"] if h["metric"] == "conversion"]
    assert check["inside"]
    assert not check["flagged"]


def test_the_discount_teams_conflict_is_flagged(company: dict[str, Any]) -> None:
    conflicts = company["portfolio"]["alignment"]["conflicts"]
    assert {(c["experiment"], c["team"], c["hurt"]) for c in conflicts} == {
        ("price-discount-10", "sales", "return_rate")
    }


def test_the_vanity_metric_is_flagged(company: dict[str, Any]) -> None:
    quality = {q["metric"]: q for q in company["portfolio"]["metric_quality"]}
    assert [m for m, q in quality.items() if q["vanity"]] == ["clicks"]


def test_the_simulated_interaction_is_found_and_nothing_else(
    recorded: tuple[RecordSummary, Registry],
) -> None:
    summary, _ = recorded
    [clash] = interactions()  # the calendar's one pair that clashes, on conversion
    tests = summary.analysis.interactions
    pairs = {(t["a"], t["b"]) for t in tests}
    assert len(pairs) > 50  # every concurrent pair across layers was scanned
    flagged = {(frozenset((t["a"], t["b"])), t["metric"]) for t in tests if t["flagged"]}
    assert flagged == {(frozenset((clash.a, clash.b)), "conversion")}
    [found] = [t for t in tests if t["flagged"]]
    assert found["contrast"] < 0  # the clash lowers conversion
    for key in (clash.a, clash.b):
        card = summary.analysis.scorecards[key]
        assert card.check("interaction").status == "warn"
        assert [t["metric"] for t in card.interactions] == ["conversion"]


def test_over_null_simulations_on_the_companys_units_the_scan_alarms_at_most_alpha(
    recorded: tuple[RecordSummary, Registry], large_company: Company, catalog: Catalog
) -> None:
    """The company's real per-unit outcomes (skewed, binary, ratios), with every unit's
    variants drawn again at random: no pair interacts, so any flag is a false alarm."""
    _, reg = recorded
    with reg.session() as s:
        plans = [
            plan_from_registry(e, catalog) for e in list_experiments(s) if e.kind == "experiment"
        ]
    pairs = concurrent_pairs(plans)
    cutoff = START + timedelta(days=365)
    engine = DuckDBEngine()
    engine.register("exposures", large_company.exposures)
    engine.register("events", large_company.events)
    plan = Plan(catalog, ["conversion", "revenue"])
    windows = [p.window(cutoff) for p in plans]
    per_unit, names = finish(units_of(engine.table("exposures"), engine.table("events"), plan,
                                      windows, engine.dialect), plan)  # fmt: skip
    t = engine.execute(per_unit.filter(~per_unit.mixed)).to_pandas()
    engine.close()
    rows = {k: g.set_index("unit_id") for k, g in t.groupby("experiment_key")}
    shared = {}
    for a, b in pairs:
        ua, ub = rows[a], rows[b]
        both = ua.index.intersection(ub.index)
        ya = {m: ua.loc[both, cols[0]].to_numpy() for m, cols in names.items()}
        shared[(a, b)] = (len(both), ya)
    rng = np.random.default_rng(16)
    sims, alarms = 200, 0
    for _ in range(sims):
        grids = {}
        for key, (n, ys) in shared.items():
            if n < 20:
                continue
            cell = rng.integers(0, 2, n) * 2 + rng.integers(0, 2, n)  # 2 x 2, row-major
            count = np.bincount(cell, minlength=4).astype(float)
            metrics = {}
            for m, y in ys.items():
                total = np.bincount(cell, y, minlength=4)
                sq = np.bincount(cell, y * y, minlength=4)
                var = (sq - total**2 / count) / (count - 1) / count
                metrics[m] = ((total / count).reshape(2, 2), var.reshape(2, 2))
            grids[key] = Grid(count.reshape(2, 2), metrics)
        alarms += any(r["flagged"] for r in scan(grids, fdr=0.05))
    rate = alarms / sims
    # Benjamini-Hochberg with every null true keeps the chance of any flag at alpha
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / sims), rate
