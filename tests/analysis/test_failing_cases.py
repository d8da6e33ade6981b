"""The cases that once gave wrong answers, each now right or a clear error."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from tinylift.analysis.compute import build_scorecard
from tinylift.analysis.plan import ExperimentPlan
from tinylift.cli.main import main
from tinylift.metrics import parse_catalog
from tinylift.stats import Moments, equivalence, fixed_horizon, sample_size, srm_test
from tinylift.stats.quantile import QuantileStats, quantile_test
from tinylift.warehouse.contract import ExperimentStats

CATALOG = parse_catalog(
    """
metrics:
  - {name: conversion, type: proportion, event: purchase, role: oec}
  - {name: crashes, type: proportion, event: crash, role: guardrail, direction: lower,
     margin: 0.05}
  - {name: profit, type: mean, event: order, value: value}
"""
)
CUTOFF = datetime(2026, 6, 1, tzinfo=UTC)


def scorecard(metrics: dict[str, Moments], oec: str = "conversion", guardrails=()):  # type: ignore[no-untyped-def]
    plan = ExperimentPlan.build(
        CATALOG,
        key="e",
        variants=["control", "treatment"],
        oec=oec,
        guardrails=list(guardrails),
        complete=True,
    )
    first = next(iter(metrics.values()))
    stats = ExperimentStats(
        key="e",
        variants=("control", "treatment"),
        units={"control": int(first.n[0, 0]), "treatment": int(first.n[0, 1])},
        multi_variant_units=0,
        unplanned_variant_units=0,
        metrics=metrics,
    )
    return build_scorecard(stats, plan, cutoff=CUTOFF)


def test_a_guardrail_whose_control_is_zero_still_stops_a_launch() -> None:
    n = 50_000
    card = scorecard(
        {
            "conversion": Moments.proportion([n, n], [5000, 5150], metrics=["conversion"]),
            "crashes": Moments.proportion([n, n], [0, 40], metrics=["crashes"]),
        },
        guardrails=["crashes"],
    )
    assert card.recommendation == "don't ship"
    assert any("crashes got significantly worse" in r for r in card.reasons), card.reasons
    assert card.row("crashes").verdict == "worse"


def test_one_event_against_none_is_no_certainty_and_no_launch() -> None:
    one_vs_none = Moments.proportion([10_000, 10_000], [1, 0], metrics=["conversion"])
    card = scorecard({"conversion": one_vs_none})
    row = card.row("conversion")
    assert row.p_value == pytest.approx(0.3173, abs=1e-3)
    # not the zero-width [-100 %, -100 %]: with one event the lift's interval is open
    assert (row.rel_ci_low, row.rel_ci_high) == (None, None)
    assert card.recommendation == "don't ship"
    assert row.verdict == "inconclusive"


def test_a_negative_control_mean_keeps_the_direction_of_the_change() -> None:
    n = 10_000
    rng = np.random.default_rng(1)
    a, b = rng.normal(-2.0, 2.0, n), rng.normal(-1.8, 2.0, n)
    mo = Moments.from_units("mean", [a, b], metric="profit")
    res = fixed_horizon(mo).row("profit")
    assert res["effect"] > 0
    assert res["rel_effect"] > 0  # the loss shrank: better, and the lift says so
    assert res["rel_ci_low"] > 0
    card = scorecard({"profit": mo}, oec="profit")
    assert card.row("profit").verdict == "better"
    assert card.recommendation == "ship"


def test_medians_of_counts_are_refused_not_called_significant() -> None:
    rng = np.random.default_rng(2)
    significant = refused = 0
    for _ in range(400):
        x, y = rng.poisson(3, 2000), rng.poisson(3, 2000)
        qs = QuantileStats.from_arrays(
            "items",
            ("control", "treatment"),
            q=0.5,
            delta=0.02,
            n=[2000, 2000],
            lower=[np.quantile(x, 0.48), np.quantile(y, 0.48)],
            value=[np.median(x), np.median(y)],
            upper=[np.quantile(x, 0.52), np.quantile(y, 0.52)],
        )
        row = quantile_test(qs).row("items")
        if row["p_value"] is None:
            refused += 1
            assert any("tied values" in f for f in row["flags"])
        elif row["p_value"] < 0.05:
            significant += 1
    assert refused == 400
    assert significant == 0


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        (["calc", "proportion", "--control", "nan:5", "--treatment", "100:5"], "--control"),
        (["calc", "proportion", "--control", "100:5", "--treatment", "100:inf"], "--treatment"),
        (["calc", "mean", "--control", "100:1:nan", "--treatment", "100:1:1"], "--control"),
        (
            [
                "calc",
                "proportion",
                "--control",
                "100:5",
                "--treatment",
                "100:6",
                "--sequential",
                "--tuning",
                "nan",
            ],
            "--tuning",
        ),
        (["calc", "srm", "--counts", "100,nan"], "--counts"),
    ],
)
def test_non_finite_input_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], args: list[str], parameter: str
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {parameter}:"), err
    assert "Traceback" not in err


def test_a_lost_arm_is_a_mismatch_and_json_has_no_nan(capsys: pytest.CaptureFixture[str]) -> None:
    assert srm_test([10_000, 3]).verdict == "mismatch"
    assert main(["calc", "srm", "--counts", "5,3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)  # strict JSON: NaN would not parse back as null
    assert doc["p_value"] is None
    assert doc["verdict"] == "too few units"


def test_nothing_against_nothing_is_not_equivalent() -> None:
    mo = Moments.proportion([5000, 5000], [0, 0], metrics=["conversion"])
    assert not equivalence(mo, margin=0.02, relative=True).equivalent[0, 0]


def test_power_for_a_multiplicative_effect_delivers_what_it_promised() -> None:
    plan = sample_size("mean", baseline=50.0, sd=60.0, mde=0.10, relative=True, power=0.8)
    n = plan.n_per_variant
    rng = np.random.default_rng(3)
    runs, hits = 2000, 0
    sigma2 = np.log(1 + (60 / 50) ** 2)
    mu = np.log(50) - sigma2 / 2
    for _ in range(runs):
        a = rng.lognormal(mu, np.sqrt(sigma2), n)
        b = rng.lognormal(mu, np.sqrt(sigma2), n) * 1.10  # every value scaled: so is the spread
        mo = Moments.from_units("mean", [a, b], metric="revenue")
        hits += fixed_horizon(mo).row("revenue")["p_value"] < 0.05
    assert abs(hits / runs - 0.8) <= 3 * np.sqrt(0.8 * 0.2 / runs), hits / runs
