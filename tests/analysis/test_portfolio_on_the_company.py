"""The portfolio of the simulated company, whose true effects are known."""

from __future__ import annotations

import dataclasses
from statistics import NormalDist
from typing import Any

import pytest

from tinylift.demo.dataset import Company
from tinylift.demo.record import RecordSummary
from tinylift.metrics import Catalog
from tinylift.portfolio import Record, build
from tinylift.registry import Registry
from tinylift.service.portfolio import infos_of, records_of

#: The company's risk-aware rule ships almost nothing at this size; a bolder team
#: ships every OEC gain significant at this level (and the portfolio is told so).
BOLD_ALPHA = 0.3


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
