"""Layers in the registry: disjoint slices for running experiments, and the SDK config."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from tinylift.assignment.layers import Assigner
from tinylift.errors import Conflict, DataError
from tinylift.registry import (
    Registry,
    create_experiment,
    get_experiment,
    registry_sdk_config,
    start_experiment,
    stop_experiment,
)


def spec(key: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "key": key,
        "name": key,
        "team": "product",
        "layer": "product-page",
        "coverage": 0.3,
        "variants": [{"key": "control", "weight": 1}, {"key": "treatment", "weight": 1}],
    }
    return base | over


def _slice(reg: Registry, key: str) -> tuple[float | None, float | None]:
    with reg.session() as s:
        e = get_experiment(s, key=key)
        return e.layer_start, e.layer_end


def test_starting_claims_the_first_free_slice_and_stopping_frees_it(registry: Registry) -> None:
    with registry.session() as s:
        for key in ("a", "b", "c", "d"):
            create_experiment(s, spec=spec(key))
        start_experiment(s, key="a")
        start_experiment(s, key="b")
        start_experiment(s, key="c")
    assert _slice(registry, "a") == (0.0, 0.3)
    assert _slice(registry, "b") == (0.3, 0.6)
    assert _slice(registry, "c") == pytest.approx((0.6, 0.9))
    with pytest.raises(Conflict, match="no free slice of 30%"), registry.session() as s:
        start_experiment(s, key="d")
    with registry.session() as s:
        assert get_experiment(s, key="d").status == "draft"
        stop_experiment(s, key="b")
    with registry.session() as s:
        start_experiment(s, key="d")
    assert _slice(registry, "d") == (0.3, 0.6)  # the gap b left


def test_a_given_slice_must_not_overlap_a_running_experiment(registry: Registry) -> None:
    with registry.session() as s:
        create_experiment(s, spec=spec("a", layer_range=(0.0, 0.5), coverage=0.5))
        create_experiment(s, spec=spec("b", layer_range=(0.4, 0.8), coverage=0.2))
        create_experiment(s, spec=spec("other-layer", layer="checkout", coverage=1.0))
        start_experiment(s, key="a")
        start_experiment(s, key="other-layer")  # layers overlap each other freely
    with (
        pytest.raises(Conflict, match=r"overlaps running experiment 'a' \[0, 0.5\)"),
        registry.session() as s,
    ):
        start_experiment(s, key="b")


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"layer_range": (0.5, 0.4)}, "0 <= start < end <= 1"),
        ({"layer_range": (0.0, 0.2), "coverage": 0.5}, "more than the slice"),
        ({"layer": None, "layer_range": (0.0, 0.2)}, "needs a layer"),
    ],
)
def test_bad_slices_are_refused(registry: Registry, over: dict[str, Any], message: str) -> None:
    with pytest.raises(DataError, match=message), registry.session() as s:
        create_experiment(s, spec=spec("x", **over))


def test_concurrent_starts_in_one_layer_get_disjoint_slices(registry: Registry) -> None:
    keys = [f"e{i}" for i in range(5)]
    with registry.session() as s:
        for key in keys:
            create_experiment(s, spec=spec(key, coverage=0.2))
    barrier = threading.Barrier(len(keys))
    errors: list[BaseException] = []

    def start(key: str) -> None:
        barrier.wait()
        try:
            with registry.session() as s:
                start_experiment(s, key=key)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    slices = sorted(_slice(registry, k) for k in keys)
    for (_, hi), (lo, _) in itertools.pairwise(slices):
        assert hi is not None
        assert lo is not None
        assert hi <= lo + 1e-9
    assert slices[-1][1] == pytest.approx(1.0)


def test_the_sdk_config_holds_running_experiments_and_holdouts(registry: Registry) -> None:
    with registry.session() as s:
        create_experiment(s, spec=spec("a", coverage=0.5))
        create_experiment(s, spec=spec("b", coverage=0.25, layer_range=(0.5, 1.0)))
        create_experiment(s, spec=spec("draft-one"))
        create_experiment(
            s,
            spec=spec(
                "holdout-2026",
                layer=None,
                coverage=1.0,
                kind="holdout",
                variants=[{"key": "holdout", "weight": 5}, {"key": "general", "weight": 95}],
            ),
        )
        for key in ("a", "b", "holdout-2026"):
            start_experiment(s, key=key)
    with registry.session() as s:
        config = registry_sdk_config(s)
    assigner = Assigner.from_dict(config)
    rules = {r["key"]: r for r in config["experiments"]}
    assert set(rules) == {"a", "b"}
    assert rules["a"]["layer_range"] == [0.0, 0.5]
    # coverage is a share of all users in the registry and in the rule alike
    assert rules["a"]["coverage"] == 0.5
    assert rules["b"]["coverage"] == 0.25
    assert assigner.experiments["b"].gb_coverage == 0.5  # GrowthBook's: half of its slice
    assert config["holdouts"] == [
        {
            "key": "holdout-2026",
            "share": 0.05,
            "experiments": None,
            "variants": ["holdout", "general"],
            "hash_attribute": "id",
            "seed": None,
        }
    ]
    # no unit is in both experiments of the layer; held-out units are in neither
    units = [f"user-{i}" for i in range(20_000)]
    a = assigner.assign_many("a", units)
    b = assigner.assign_many("b", units)
    assert not ((a >= 0) & (b >= 0)).any()
    assert 0.40 < (a >= 0).mean() < 0.50  # 50 % of the layer, minus the 5 % holdout
    assert 0.20 < (b >= 0).mean() < 0.26
