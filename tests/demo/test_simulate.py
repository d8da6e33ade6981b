"""The simulator's rules: determinism, layers, holdout, SRM, time order."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow.compute as pc
import pytest
from scipy import stats

from tinylift.demo.company import HOLDOUT, experiments
from tinylift.demo.dataset import Company, generate
from tinylift.demo.simulate import Simulation, layer_ranges
from tinylift.errors import ConfigError
from tinylift.registry.models import AREAS


def test_same_seed_gives_identical_data() -> None:
    a, b = generate(3_000, seed=5), generate(3_000, seed=5)
    assert a.exposures.equals(b.exposures)
    assert a.events.equals(b.events)
    assert a.truth.equals(b.truth)


def test_different_seeds_give_different_data() -> None:
    a, b = generate(3_000, seed=5), generate(3_000, seed=6)
    assert not a.events.equals(b.events)


def test_a_units_variant_depends_on_the_unit_alone() -> None:
    # Assignment draws are fixed by (unit, experiment, seed): a unit enrolled
    # in both populations gets the same variant, however many units there are.
    small = generate(2_000, seed=3).exposures.to_pandas()
    big = generate(60_000, seed=3).exposures.to_pandas()
    both = small.merge(big, on=["experiment_key", "unit_id"])
    both = both[both.experiment_key != HOLDOUT.key]
    assert len(both) > 500
    agree = (both.variant_key_x == both.variant_key_y).mean()
    assert agree > 0.99  # the rare disagreement is a logged multi-variant unit


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("users", -5, "users: must be at least 1"),
        ("users", 0, "users: must be at least 1"),
        ("days", 0, "days: must be between"),
        ("seed", -1, "seed: must be 0 or more"),
        ("seed", "abc", "seed: must be an integer"),
        ("users", 2.5, "users: must be an integer"),
    ],
)
def test_bad_parameters_name_the_parameter(param: str, value: object, message: str) -> None:
    kwargs: dict[str, object] = {"users": 10, "days": 365, "seed": 0, param: value}
    with pytest.raises(ConfigError, match=f"^{message}"):
        Simulation(**kwargs)  # type: ignore[arg-type]


def test_company_has_five_teams_and_about_forty_experiments() -> None:
    specs = experiments()
    assert {s.team for s in specs} == {"product", "marketing", "sales", "operations", "support"}
    assert 35 <= len(specs) <= 45
    areas = {s.area for s in specs}
    assert set(AREAS) - {"holdout", "other"} <= areas  # every area of the business
    cases = {s.case for s in specs}
    assert {"discount", "srm", "novelty", "vanity", "anecdote_disagrees"} <= cases


def test_concurrent_experiments_in_one_layer_get_disjoint_ranges() -> None:
    specs = experiments()
    ranges = layer_ranges(specs)
    concurrent_same_layer = 0
    for a in specs:
        for b in specs:
            if (
                a.key < b.key
                and a.layer == b.layer
                and (a.start_day < b.ship_day and b.start_day < a.ship_day)
            ):
                concurrent_same_layer += 1
                (alo, ahi), (blo, bhi) = ranges[a.key], ranges[b.key]
                assert ahi <= blo or bhi <= alo, (a.key, b.key)
    assert concurrent_same_layer >= 2


def test_no_unit_is_in_two_concurrent_experiments_of_one_layer(small_company: Company) -> None:
    specs = {s.key: s for s in experiments()}
    exp = small_company.exposures.to_pandas()
    exp = exp[exp.experiment_key != HOLDOUT.key]
    exp["layer"] = exp.experiment_key.map(lambda k: specs[k].layer)
    pairs = exp.merge(exp, on=["unit_id", "layer"])
    pairs = pairs[pairs.experiment_key_x < pairs.experiment_key_y]
    for _, row in pairs.drop_duplicates(["experiment_key_x", "experiment_key_y"]).iterrows():
        a, b = specs[row.experiment_key_x], specs[row.experiment_key_y]
        assert not (a.start_day < b.ship_day and b.start_day < a.ship_day), (a.key, b.key)


def test_experiments_in_different_layers_overlap(small_company: Company) -> None:
    exp = small_company.exposures.to_pandas()
    a = set(exp.unit_id[exp.experiment_key == "price-discount-10"])
    b = set(exp.unit_id[exp.experiment_key == "ops-delivery-promise"])
    assert len(a & b) > 0


def test_events_never_precede_a_units_arrival(small_company: Company) -> None:
    con = duckdb.connect()
    con.register("events", small_company.events)
    con.register("units", small_company.units)
    con.register("exposures", small_company.exposures)
    early = con.execute(
        "select count(*) from events e join units u using (unit_id) where e.timestamp < u.arrival"
    ).fetchone()
    assert early == (0,)
    early_exp = con.execute(
        "select count(*) from exposures x join units u using (unit_id) "
        "where x.timestamp < u.arrival"
    ).fetchone()
    assert early_exp == (0,)
    first_is_arrival = con.execute(
        "select bool_and(m = u.arrival) from (select unit_id, min(timestamp) m from events "
        "group by 1) join units u using (unit_id)"
    ).fetchone()
    assert first_is_arrival == (True,)


def test_event_ids_are_unique(small_company: Company) -> None:
    ids = small_company.events.column("event_id")
    assert pc.count_distinct(ids).as_py() == len(ids)


def test_holdout_units_are_never_enrolled(small_company: Company) -> None:
    exp = small_company.exposures.to_pandas()
    held = set(exp.unit_id[(exp.experiment_key == HOLDOUT.key) & (exp.variant_key == "holdout")])
    assert held, "the holdout is empty"
    enrolled = set(exp.unit_id[exp.experiment_key != HOLDOUT.key])
    assert not held & enrolled
    share = len(held) / exp.unit_id[exp.experiment_key == HOLDOUT.key].nunique()
    assert abs(share - HOLDOUT.share) < 0.015


def test_holdout_truth_sees_no_shipped_change(large_company: Company) -> None:
    truth = large_company.truth.to_pandas()
    holdout = truth[truth.experiment_key == HOLDOUT.key].set_index("metric")
    # The general population receives every shipped winner: conversion and
    # order value rise; the holdout, which gets none, is the control.
    assert holdout.loc["conversion", "true_rel_effect"] > 0.005
    assert holdout.loc["aov", "true_rel_effect"] > 0.005


def _srm_p(company: Company, key: str) -> float:
    exp = company.exposures.to_pandas()
    counts = exp[exp.experiment_key == key].drop_duplicates("unit_id").variant_key.value_counts()
    return float(stats.chisquare(counts.to_numpy()).pvalue)


def test_the_broken_split_is_measurably_off(large_company: Company) -> None:
    assert _srm_p(large_company, "pdp-gallery-video") < 1e-6
    # ...while a healthy experiment of the same size is not
    assert _srm_p(large_company, "pdp-reviews-top") > 1e-3


def test_anecdotes_include_some_that_disagree_with_the_truth(small_company: Company) -> None:
    truth = small_company.truth.to_pandas()
    conv = truth[truth.metric == "conversion"].set_index(["experiment_key", "variant_key"])
    anecdotes = small_company.anecdotes.to_pandas()
    disagree = [
        row
        for row in anecdotes.itertuples()
        if row.sentiment == "positive"
        and conv.loc[(row.experiment_key, row.variant_key), "true_rel_effect"] < 0
    ]
    assert disagree
    assert set(anecdotes.source) >= {"support ticket", "return reason", "user interview"}


def test_truth_covers_every_experiment_and_metric(small_company: Company) -> None:
    truth = small_company.truth.to_pandas()
    assert set(truth.experiment_key) == {s.key for s in experiments()} | {HOLDOUT.key}
    assert np.isfinite(truth.true_abs_effect).all()
