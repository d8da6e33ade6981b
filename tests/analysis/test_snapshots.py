"""Snapshots are reproducible: the same data cutoff gives the same numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tinylift.analysis import ExperimentPlan, analyze, analyze_registered
from tinylift.demo.company import experiments
from tinylift.demo.dataset import Company
from tinylift.demo.simulate import START
from tinylift.errors import AnalysisError, ConfigError
from tinylift.metrics import Catalog
from tinylift.registry import (
    Registry,
    create_experiment,
    create_team,
    snapshots_of,
    start_experiment,
)
from tinylift.warehouse.engine import DuckDBEngine

SPEC = next(s for s in experiments() if s.case == "discount")
CUTOFF = START + timedelta(days=SPEC.start_day + 20)


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    reg = Registry(f"sqlite:///{tmp_path / 'r.db'}")
    with reg.session() as s:
        create_team(s, key=SPEC.team)
        create_experiment(
            s,
            spec={
                "key": SPEC.key,
                "name": SPEC.name,
                "team": SPEC.team,
                "variants": [{"key": v.key, "weight": v.weight} for v in SPEC.variants],
                "oec": "conversion",
                "guardrails": ["return_rate"],
                "secondary": ["revenue", "aov"],
            },
        )
        start_experiment(s, key=SPEC.key, at=START + timedelta(days=SPEC.start_day))
    return reg


def test_the_same_cutoff_gives_the_same_snapshot_even_after_new_data(
    registry: Registry, small_engine: DuckDBEngine, small_company: Company, catalog: Catalog
) -> None:
    first = analyze_registered(registry, small_engine, catalog, keys=[SPEC.key], cutoff=CUTOFF)
    again = analyze_registered(registry, small_engine, catalog, keys=[SPEC.key], cutoff=CUTOFF)
    # events keep arriving after the cutoff: a copy of later events, a day later still
    later = small_company.events.filter(pc.greater(small_company.events["timestamp"], CUTOFF))
    shifted = later.set_column(
        later.schema.get_field_index("event_id"),
        "event_id",
        pc.binary_join_element_wise(later["event_id"], pa.scalar("-late"), ""),
    )
    shifted = shifted.cast(small_company.events.schema)
    small_engine.register("events", pa.concat_tables([small_company.events, shifted]))
    after = analyze_registered(registry, small_engine, catalog, keys=[SPEC.key], cutoff=CUTOFF)
    week = analyze_registered(
        registry, small_engine, catalog, keys=[SPEC.key], cutoff=CUTOFF + timedelta(days=7)
    )
    with registry.session() as s:
        snaps = snapshots_of(s, key=SPEC.key)
    assert [x.id for x in snaps] == [
        first.snapshots[SPEC.key],
        again.snapshots[SPEC.key],
        after.snapshots[SPEC.key],
        week.snapshots[SPEC.key],
    ]
    assert snaps[0].digest == snaps[1].digest == snaps[2].digest
    # without keys: every running experiment, here the one; --no-store keeps nothing
    running = analyze_registered(registry, small_engine, catalog, cutoff=CUTOFF, store=False)
    assert list(running.scorecards) == [SPEC.key]
    assert running.snapshots == {}
    assert snaps[0].results == snaps[2].results
    assert snaps[3].digest != snaps[0].digest
    assert snaps[0].data_cutoff == CUTOFF
    assert snaps[0].catalog_version == catalog.version
    assert snaps[0].settings["design"]["metrics"]["return_rate"] == "guardrail"


def test_analysis_input_errors_are_clear(
    registry: Registry, small_engine: DuckDBEngine, catalog: Catalog, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="time zone"):
        analyze_registered(
            registry, small_engine, catalog, keys=[SPEC.key], cutoff=datetime(2026, 3, 1)
        )
    # one experiment without data does not stop the others; it is reported
    result = analyze(
        small_engine,
        catalog,
        [
            ExperimentPlan.build(catalog, key="nobody-saw-this", variants=["a", "b"]),
            ExperimentPlan.build(catalog, key=SPEC.key, variants=["control", "treatment"]),
        ],
        cutoff=CUTOFF,
    )
    assert "no exposures at all" in result.failures["nobody-saw-this"]
    assert list(result.scorecards) == [SPEC.key]
    with (
        Registry(f"sqlite:///{tmp_path / 'empty.db'}") as empty,
        pytest.raises(AnalysisError, match="no running experiments"),
    ):
        analyze_registered(empty, small_engine, catalog, cutoff=CUTOFF)
    with pytest.raises(ConfigError, match="no non-inferiority margin"):
        ExperimentPlan.build(catalog, key="x", variants=["a", "b"], guardrails=["revenue"])


def test_an_unknown_experiment_fails_with_its_name(
    registry: Registry, small_engine: DuckDBEngine, catalog: Catalog
) -> None:
    from tinylift.errors import NotFound

    with pytest.raises(NotFound, match="no experiment 'price-discount-1'"):
        analyze_registered(
            registry,
            small_engine,
            catalog,
            keys=["price-discount-1"],
            cutoff=CUTOFF.astimezone(UTC),
        )
