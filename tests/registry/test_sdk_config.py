"""The SDK configuration combines the registry's running experiments with experiments.yml."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tinylift.errors import ConfigError, NotFound
from tinylift.experiments import ExperimentConfig, VariantConfig, save_experiments, sdk_config
from tinylift.registry import Registry, create_experiment, create_team, start_experiment


def _file_experiment(key: str, layer_range: tuple[float, float]) -> ExperimentConfig:
    return ExperimentConfig(
        key=key,
        variants=[VariantConfig(key="control", weight=1), VariantConfig(key="b", weight=1)],
        layer="pdp",
        layer_range=layer_range,
        start=date(2026, 1, 1),
    )


def _registry(ws: Path, key: str, layer_range: tuple[float, float]) -> None:
    with Registry(f"sqlite:///{ws / 'registry.db'}") as reg, reg.session() as s:
        create_team(s, key="product")
        create_experiment(
            s,
            spec={
                "key": key,
                "name": key,
                "team": "product",
                "layer": "pdp",
                "layer_range": layer_range,
                "coverage": layer_range[1] - layer_range[0],
                "variants": [{"key": "control", "weight": 1}, {"key": "b", "weight": 1}],
            },
        )
        start_experiment(s, key=key)


def test_registry_and_file_experiments_are_served_together(tmp_path: Path) -> None:
    save_experiments(tmp_path / "experiments.yml", [_file_experiment("from-file", (0.5, 1.0))])
    _registry(tmp_path, "from-registry", (0.0, 0.5))
    config = sdk_config(tmp_path, today=date(2026, 3, 1))
    assert {r["key"] for r in config["experiments"]} == {"from-file", "from-registry"}


def test_a_registry_alone_is_enough(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no experiments defined"):
        sdk_config(tmp_path)
    _registry(tmp_path, "from-registry", (0.0, 0.5))
    assert [r["key"] for r in sdk_config(tmp_path)["experiments"]] == ["from-registry"]


def test_overlapping_slices_across_the_two_sources_are_refused(tmp_path: Path) -> None:
    save_experiments(tmp_path / "experiments.yml", [_file_experiment("from-file", (0.25, 1.0))])
    _registry(tmp_path, "from-registry", (0.0, 0.5))
    with pytest.raises(ConfigError, match="overlap"):
        sdk_config(tmp_path, today=date(2026, 3, 1))
