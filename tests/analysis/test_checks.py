"""Health, novelty and anecdote checks on hand-made statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tinylift.analysis import AnecdoteNote, ExperimentPlan, MetricRow, Scorecard, health
from tinylift.analysis.anecdotes import anecdote_check
from tinylift.analysis.novelty import _slices, novelty_check
from tinylift.analysis.scorecard import Check, canonical
from tinylift.metrics import Catalog
from tinylift.metrics.model import Window
from tinylift.stats import Moments
from tinylift.warehouse.contract import ExperimentStats

RNG = np.random.default_rng(7)


def _stats(
    metrics: dict[str, Moments], units: tuple[int, int] = (5000, 5000), multi: int = 0
) -> ExperimentStats:
    return ExperimentStats(
        key="exp",
        variants=("control", "treatment"),
        units={"control": units[0], "treatment": units[1]},
        multi_variant_units=multi,
        unplanned_variant_units=0,
        metrics=metrics,
    )


def _mean(shift: float, *, pre_shift: float = 0.0, n: int = 5000) -> Moments:
    arms = []
    for lift, pre_lift in ((0.0, 0.0), (shift, pre_shift)):
        pre = RNG.normal(10 + pre_lift, 2, n)
        post = pre + RNG.normal(lift, 1, n)
        arms.append(np.column_stack([post, pre]))
    return Moments.from_units("mean", arms, metric="pages", variants=("control", "treatment"))


def _plan(catalog: Catalog, **kw: object) -> ExperimentPlan:
    return ExperimentPlan.build(
        catalog,
        key="exp",
        variants=["control", "treatment"],
        oec="pages",
        **kw,  # type: ignore[arg-type]
    )


def test_window_slices_are_the_first_quarter_and_the_second_half() -> None:
    s = _slices(Window(start_days=0, end_days=14))
    assert (s["early"].start_days, s["early"].end_days) == (0, 3)
    assert (s["late"].start_days, s["late"].end_days) == (7, 14)


def test_novelty_is_flagged_when_the_early_lift_fades(catalog: Catalog) -> None:
    plan = _plan(catalog)
    fading = _stats({"pages__early": _mean(1.0), "pages__late": _mean(0.0)})
    check, rows = novelty_check(fading, plan, alpha=0.05)
    assert check.status == "warn"
    assert "novelty" in check.message
    assert rows[0]["trend"] == "fading"
    steady = _stats({"pages__early": _mean(0.3), "pages__late": _mean(0.3)})
    assert novelty_check(steady, plan, alpha=0.05)[0].status == "ok"


def test_a_late_slice_no_unit_has_reached_is_skipped_not_an_error(catalog: Catalog) -> None:
    # a young experiment (or a short demo year): units entered, none is 7 days in yet
    plan = _plan(catalog)
    young = _stats({"pages__early": _mean(1.0), "pages__late": _mean(0.0, n=1)})
    check, rows = novelty_check(young, plan, alpha=0.05)
    assert (check.status, rows) == ("info", [])


def test_covariate_imbalance_before_exposure_fails(catalog: Catalog) -> None:
    assert health.covariate_balance(_stats({"pages": _mean(0.0)}), threshold=0.001).status == "ok"
    skewed = _stats({"pages": _mean(0.0, pre_shift=0.5)})
    check = health.covariate_balance(skewed, threshold=0.001)
    assert check.status == "fail"
    assert "before exposure" in check.message


@pytest.mark.parametrize(("multi", "status"), [(10, "ok"), (300, "warn"), (1000, "fail")])
def test_multiple_exposures_thresholds(multi: int, status: str) -> None:
    assert health.multiple_exposures(_stats({}, multi=multi)).status == status


def test_srm_uses_planned_weights(catalog: Catalog) -> None:
    plan = ExperimentPlan.build(
        catalog, key="exp", variants=["control", "treatment"], weights=[0.2, 0.8], oec="pages"
    )
    ok, _ = health.sample_ratio(_stats({}, units=(2000, 8000)), plan, threshold=0.001)
    bad, res = health.sample_ratio(_stats({}, units=(5000, 5000)), plan, threshold=0.001)
    assert ok.status == "ok"
    assert bad.status == "fail"
    assert res.mismatch


def _row(rel: float, *, significant: bool, lower: bool = False) -> MetricRow:
    return MetricRow(
        metric="conversion", role="oec", variant="treatment", kind="proportion",
        lower_is_better=lower, control_value=0.1, treatment_value=0.1 * (1 + rel),
        effect=0.1 * rel, ci_low=None, ci_high=None, rel_effect=rel, rel_ci_low=None,
        rel_ci_high=None, rel_se=None, p_value=0.01 if significant else 0.5, p_value_adjusted=None,
        chance_to_win=None, n_control=1, n_treatment=1, cuped=False, significant=significant,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("sentiments", "rel", "lower", "status"),
    [
        (("positive", "positive"), -0.02, False, "warn"),
        (("positive", "negative", "positive"), 0.02, False, "ok"),
        (("negative",), 0.02, False, "warn"),
        (("negative",), 0.02, True, "ok"),  # lower is better: a rise is bad news
        (("positive", "negative"), -0.02, False, "ok"),  # no lean
    ],
)
def test_anecdotes_leaning_against_the_oec_are_flagged(
    catalog: Catalog, sentiments: tuple[str, ...], rel: float, lower: bool, status: str
) -> None:
    plan = ExperimentPlan.build(
        catalog, key="exp", variants=["control", "treatment"], oec="conversion"
    )
    plan = type(plan)(
        **{
            **plan.__dict__,
            "anecdotes": tuple(AnecdoteNote("treatment", s, "ticket", "t") for s in sentiments),
        }
    )
    check, _ = anecdote_check([_row(rel, significant=True, lower=lower)], plan)
    assert check.status == status


def _card(rel: float, **extra: Any) -> Scorecard:
    """A one-row scorecard, as a snapshot would hold it."""
    return Scorecard(
        experiment="exp",
        variants=("control", "treatment"),
        data_cutoff="2026-03-01T00:00:00+00:00",
        units={"control": 10, "treatment": 11},
        rows=(_row(rel, significant=False),),
        checks=(Check("srm", "ok", "fine", {"p": 0.5}),),
        recommendation="keep running",
        ship_variant=None,
        reasons=("the planned sample is not reached yet",),
        **extra,
    )


def test_scorecards_round_trip_through_json_with_canonical_numbers() -> None:
    card = _card(0.0123456789012345, over_time=({"day": "2026-03-01", "rel_effect": float("nan")},))
    data = card.to_dict()
    assert data["rows"][0]["rel_effect"] == 0.0123456789
    assert data["over_time"][0]["rel_effect"] is None
    assert Scorecard.from_dict(data).to_dict() == data
    assert canonical(np.float64(1 / 3)) == 0.3333333333


def test_snapshots_stored_by_earlier_versions_still_load() -> None:
    card = _card(0.01)
    old = card.to_dict()
    for gone in ("rel_se", "method"):  # fields added after the first snapshots
        del old["rows"][0][gone]
    old["rows"][0]["retired_field"] = 1  # and one a later version dropped
    del old["anecdotes"]
    again = Scorecard.from_dict(old)
    assert again.rows[0].rel_se is None
    assert again.rows[0].method == "fixed"
    assert again.rows[0].rel_effect == card.rows[0].rel_effect


def test_a_degenerate_pre_period_is_not_a_verdict() -> None:
    # control never did it before entry: the relative difference is undefined
    control = np.column_stack([RNG.normal(1, 1, 50), np.zeros(50)])
    treatment = np.column_stack([RNG.normal(1, 1, 50), np.ones(50)])
    mo = Moments.from_units("mean", [control, treatment], metric="clicks")
    check = health.covariate_balance(_stats({"clicks": mo}, units=(50, 50)), threshold=0.001)
    assert check.status == "info"


def test_too_few_units_give_no_verdict(catalog: Catalog) -> None:
    from datetime import UTC, datetime

    from tinylift.analysis.compute import build_scorecard

    plan = ExperimentPlan.build(catalog, key="exp", variants=["control", "treatment"], oec="pages")
    big_lift = Moments.from_units(
        "mean", [RNG.normal(1, 0.1, 40), RNG.normal(3, 0.1, 40)], metric="pages"
    )
    card = build_scorecard(
        _stats({"pages": big_lift}, units=(40, 40)),
        plan,
        cutoff=datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert card.row("pages").verdict == "better"  # shown, but not acted on
    assert card.recommendation == "keep running"
    assert "too few units" in card.reasons[0]
