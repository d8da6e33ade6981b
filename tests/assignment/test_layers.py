"""Layers, allocation, targeting, forced variations and holdouts."""

from __future__ import annotations

import numpy as np
import pytest
from growthbook import Experiment, GrowthBook
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tinylift.assignment import Assigner, ExperimentRule, Holdout
from tinylift.errors import ConfigError

IDS = np.char.add("user-", np.arange(60_000).astype(str))

PRICING_A = ExperimentRule(
    "price-a", ("control", "treatment"), layer="pricing", layer_range=(0, 0.5)
)
PRICING_B = ExperimentRule(
    "price-b", ("control", "b", "c"), layer="pricing", layer_range=(0.5, 1.0), coverage=0.3
)  # coverage is a share of all units: 60 % of its half of the layer
PDP = ExperimentRule("pdp", ("control", "treatment"), weights=(0.3, 0.7), layer="pdp")


def test_experiments_in_one_layer_never_share_a_unit() -> None:
    a = Assigner([PRICING_A, PRICING_B])
    in_a = a.assign_many("price-a", IDS) >= 0
    in_b = a.assign_many("price-b", IDS) >= 0
    assert in_a.sum() > 25_000
    assert in_b.sum() > 15_000
    assert not (in_a & in_b).any()


def test_experiments_in_different_layers_overlap_independently() -> None:
    a = Assigner([PRICING_A, PDP])
    x = a.assign_many("price-a", IDS)
    y = a.assign_many("pdp", IDS)
    table = np.zeros((3, 2))
    np.add.at(table, (x + 1, y), 1)
    assert stats.chi2_contingency(table).pvalue > 0.001
    assert ((x >= 0) & (y >= 0)).sum() > 10_000


def test_overlapping_slices_of_a_layer_are_refused() -> None:
    clash = ExperimentRule("clash", ("control", "t"), layer="pricing", layer_range=(0.4, 0.6))
    with pytest.raises(ConfigError, match="'price-a' and 'clash' overlap in layer 'pricing'"):
        Assigner([PRICING_A, clash])


def test_batch_equals_one_at_a_time() -> None:
    a = Assigner([PRICING_A, PRICING_B, PDP], [Holdout("global", 0.05)])
    for rule in (PRICING_A, PRICING_B, PDP):
        batch = a.assign_many(rule.key, IDS[:3_000])
        one = [a.variant(rule.key, str(u)) for u in IDS[:3_000]]
        assert [rule.variants[i] if i >= 0 else None for i in batch] == one


@settings(max_examples=40, deadline=None)
@given(
    coverage=st.floats(0.05, 1.0),
    lo=st.floats(0.0, 0.5),
    width=st.floats(0.1, 0.5),
    weights=st.sampled_from([None, (0.5, 0.5), (0.2, 0.8), (0.1, 0.3, 0.6)]),
)
def test_units_get_the_variant_a_growthbook_sdk_gives(
    coverage: float, lo: float, width: float, weights: tuple[float, ...] | None
) -> None:
    n = len(weights) if weights else 2
    rule = ExperimentRule(
        "checkout-test",
        tuple(f"v{i}" for i in range(n)),
        weights=weights,
        coverage=coverage * width,  # a share of all units
        layer="checkout",
        layer_range=(lo, lo + width),
    )
    ours = Assigner([rule]).assign_many("checkout-test", IDS[:300])
    for unit, got in zip(IDS[:300], ours, strict=True):
        gb = GrowthBook(attributes={"id": str(unit)})
        res = gb.run(
            Experiment(
                key="checkout-test",
                variations=list(range(n)),
                coverage=coverage,
                weights=list(weights) if weights else None,
                namespace=("checkout", lo, lo + width),
                hashVersion=2,
            )
        )
        assert (res.variationId if res.inExperiment else -1) == got, unit


def test_targeting_enrolls_only_matching_units() -> None:
    rule = ExperimentRule("eu-only", ("control", "t"), targeting={"country": ("DE", "FR")})
    a = Assigner([rule])
    countries = np.array(["DE", "US", "FR", "GB"] * (len(IDS) // 4))
    got = a.assign_many("eu-only", IDS, {"country": countries})
    assert (got[np.isin(countries, ["US", "GB"])] == -1).all()
    assert (got[np.isin(countries, ["DE", "FR"])] >= 0).all()
    assert a.variant("eu-only", "someone", {"country": "US"}) is None


def test_forced_variations_win_for_qa() -> None:
    rule = ExperimentRule("qa", ("control", "t"), coverage=0.0, forced={"tester-1": "t"})
    a = Assigner([rule], [Holdout("global", 0.5)])
    assert a.variant("qa", "tester-1") == "t"
    assert a.assign_many("qa", ["tester-1", "someone"]).tolist() == [1, -1]


def test_holdout_units_are_in_no_experiment_in_scope() -> None:
    h = Holdout("global-2026", 0.05)
    a = Assigner([PRICING_A, PRICING_B, PDP], [h])
    held = np.array([h.holds(str(u)) for u in IDS[:20_000]])
    assert abs(held.mean() - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 20_000)
    for rule in (PRICING_A, PRICING_B, PDP):
        assert (a.assign_many(rule.key, IDS[:20_000])[held] == -1).all()


def test_a_holdout_scoped_to_some_experiments_leaves_others_alone() -> None:
    h = Holdout("pricing-team", 0.2, experiments=("price-a",))
    a = Assigner([PRICING_A, PDP], [h])
    held = np.array([h.holds(str(u)) for u in IDS[:5_000]])
    assert (a.assign_many("price-a", IDS[:5_000])[held] == -1).all()
    assert (a.assign_many("pdp", IDS[:5_000])[held] >= 0).mean() > 0.9


def test_missing_and_empty_ids_are_in_no_experiment_as_in_growthbook() -> None:
    rule = ExperimentRule("pdp", ("control", "treatment"))
    assigner = Assigner([rule])
    for unit in ("", None):
        gb = GrowthBook(attributes={"id": unit})
        res = gb.run(Experiment(key="pdp", variations=[0, 1], hashVersion=2))
        assert not res.inExperiment
        assert assigner.variant("pdp", unit) is None  # type: ignore[arg-type]
    mixed = np.array(["user-1", "", None, float("nan"), "user-2"], dtype=object)
    got = assigner.assign_many("pdp", mixed)
    assert got[1:4].tolist() == [-1, -1, -1]
    assert got[[0, 4]].tolist() == [
        assigner.assign_many("pdp", ["user-1", "user-2"])[i] for i in (0, 1)
    ]
    assert assigner.assign_many("pdp", np.array(["", "x"]))[0] == -1
