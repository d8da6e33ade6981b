"""The registry is the one record; experiments.yml is its import and export format."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tinylift.demo.dataset import write_catalog
from tinylift.errors import ConfigError, Conflict
from tinylift.service import Workspace
from tinylift.service import experiments as svc

DESIGNS = {
    "experiments": [
        {
            "key": "hero-copy",
            "name": "Hero copy",
            "team": "marketing",
            "area": "messaging",
            "layer": "home",
            "layer_range": [0.0, 0.5],
            "variants": [{"key": "control", "weight": 1}, {"key": "bold", "weight": 1}],
            "guardrails": ["return_rate"],
            "started_at": "2026-02-01",
            "stopped_at": "2026-03-01T12:00:00+00:00",
        },
        {
            "key": "cart-badge",
            "name": "Cart badge",
            "team": "marketing",
            "layer": "home",
            "layer_range": [0.5, 1.0],
            "variants": [{"key": "control", "weight": 1}, {"key": "badge", "weight": 1}],
            "started_at": "2026-02-10",
        },
        {
            "key": "holdout-2026",
            "kind": "holdout",
            "name": "Holdout",
            "team": "marketing",
            "variants": [{"key": "holdout", "weight": 5}, {"key": "general", "weight": 95}],
            "started_at": "2026-01-01",
        },
        {
            "key": "later",
            "name": "Not started yet",
            "team": "marketing",
            "variants": [{"key": "control", "weight": 1}, {"key": "b", "weight": 1}],
        },
    ]
}


def workspace(path: Path) -> Workspace:
    ws = Workspace.init(path)
    write_catalog(ws.root)
    svc.add_team(ws, "marketing")
    return ws


def test_import_then_export_round_trips(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "a")
    file = tmp_path / "experiments.yml"
    file.write_text(yaml.safe_dump(DESIGNS))
    assert svc.import_experiments(ws, file) == ["hero-copy", "cart-badge", "holdout-2026", "later"]
    status = {e.key: e.status for e in svc.list_experiments(ws)}
    assert status == {
        "hero-copy": "stopped",
        "cart-badge": "running",
        "holdout-2026": "running",
        "later": "draft",
    }
    hero = svc.show_experiment(ws, "hero-copy").experiment
    assert hero.oec == "conversion"  # the catalog's shared OEC by default
    assert hero.coverage == 0.5  # the slice's width by default
    assert hero.stopped_at is not None
    assert hero.stopped_at.hour == 12

    exported = tmp_path / "out.yml"
    assert svc.export_experiments(ws, exported) == 4
    again = Workspace.init(tmp_path / "b")  # no teams yet: the file brings its own
    write_catalog(again.root)
    svc.import_experiments(again, exported)
    assert [t[0] for t in svc.list_teams(again)] == ["marketing"]
    second = tmp_path / "again.yml"
    svc.export_experiments(again, second)
    assert yaml.safe_load(second.read_text()) == yaml.safe_load(exported.read_text())


def test_the_sdk_configuration_serves_running_experiments_and_holdouts(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "a")
    file = tmp_path / "experiments.yml"
    file.write_text(yaml.safe_dump(DESIGNS))
    svc.import_experiments(ws, file)
    config = svc.sdk_config(ws)
    assert [r["key"] for r in config["experiments"]] == ["cart-badge"]
    [holdout] = config["holdouts"]
    assert (holdout["key"], holdout["share"], holdout["experiments"]) == (
        "holdout-2026",
        0.05,
        None,
    )
    # the same, as GrowthBook's payload: a $holdout feature, and the experiment's feature
    # forcing its control for held-out units before its experiment rule
    payload = svc.features_payload(ws)
    assert set(payload["features"]) == {"$holdout:holdout-2026", "cart-badge"}
    rules = payload["features"]["cart-badge"]["rules"]
    assert rules[0]["parentConditions"][0]["id"] == "$holdout:holdout-2026"
    assert rules[-1]["key"] == "cart-badge"


def test_a_bad_entry_names_itself_and_registers_nothing(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "a")
    bad = {"experiments": [DESIGNS["experiments"][0], {**DESIGNS["experiments"][1], "coverage": 2}]}
    file = tmp_path / "experiments.yml"
    file.write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError, match=r"experiment 'cart-badge', field 'coverage'"):
        svc.import_experiments(ws, file)
    assert svc.list_experiments(ws) == []


def test_overlapping_slices_are_refused_whole(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "a")
    overlapping = [dict(e) for e in DESIGNS["experiments"][:2]]
    overlapping[0].pop("stopped_at")
    overlapping[1]["layer_range"] = [0.25, 0.75]
    file = tmp_path / "experiments.yml"
    file.write_text(yaml.safe_dump({"experiments": overlapping}))
    with pytest.raises(Conflict, match="overlaps running experiment 'hero-copy'"):
        svc.import_experiments(ws, file)
    assert svc.list_experiments(ws) == []


def test_the_old_holdouts_list_is_explained(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "a")
    file = tmp_path / "experiments.yml"
    file.write_text(yaml.safe_dump({"experiments": [], "holdouts": [{"key": "h", "share": 0.05}]}))
    with pytest.raises(ConfigError, match="kind: holdout"):
        svc.import_experiments(ws, file)
