"""Unmodified GrowthBook SDKs against a running tinylift server.

200 random experiments (layers, coverage, weights, conditions from the whole
language, hash attributes, hash versions 1 and 2) and two holdouts are
registered and started; a tinylift server serves them. 2,000 units (text,
emoji, lone surrogates, empty, missing, numeric, very long ids) are then
assigned four ways, which must agree on every unit and experiment:

- tinylift's client, one unit at a time (from ``/api/sdk/config``);
- tinylift's client, all units at once (the batch path);
- GrowthBook's Python SDK, from ``/api/features/<client key>``;
- GrowthBook's JavaScript SDK under Node, from the same URL, whose tracking
  callback posts exposures to the collector as the README shows.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from growthbook import GrowthBook, feature_repo
from tests.assignment.gb_cases import PLANS, random_attributes, random_condition, random_id
from tests.assignment.test_conformance import _python_differs, start_node_oracle
from tests.collector.conftest import KEY, free_port, start_collector

import tinylift
from tinylift.assignment import MAX_ID_LENGTH
from tinylift.demo.dataset import write_catalog
from tinylift.registry import create_experiment, start_experiment
from tinylift.service import Workspace
from tinylift.service import experiments as svc

N_EXPERIMENTS = 200
N_UNITS = 2_000
#: units whose exposures the JavaScript SDK's tracking callback posts
TRACKED_UNITS = 300


def _design(rng: random.Random, i: int, room: dict[str, float]) -> dict[str, Any]:
    n = rng.randint(2, 4)
    spec: dict[str, Any] = {
        "key": f"exp-{i:03d}",
        "name": f"Experiment {i}",
        "team": "growth",
        "variants": [{"key": "control", "weight": rng.randint(1, 5)}]
        + [{"key": f"t{j}", "weight": rng.randint(1, 5)} for j in range(1, n)],
        "hash_version": rng.choice([1, 2]),
    }
    if rng.random() < 0.1:
        spec["hash_attribute"] = "company"
    if rng.random() < 0.5:
        spec["condition"] = random_condition(rng)
    if rng.random() < 0.15:
        spec["targeting"] = {"plan": rng.sample(PLANS, 2)}
    coverage = round(rng.uniform(0.02, 0.15), 3)
    layer = rng.choice(list(room))
    if rng.random() < 0.4 and room[layer] >= coverage:
        room[layer] -= coverage
        spec["layer"] = layer
        spec["coverage"] = coverage
    elif rng.random() < 0.5:
        spec["coverage"] = round(rng.uniform(0.05, 1.0), 3)
    return spec


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    began = time.monotonic()
    root = tmp_path_factory.mktemp("gb-sdks")
    ws = Workspace.init(root)
    write_catalog(root)
    svc.add_team(ws, "growth")
    rng = random.Random(2026)
    room = {"checkout": 1.0, "search": 1.0, "onboarding": 1.0}
    designs = [_design(rng, i, room) for i in range(N_EXPERIMENTS)]
    for key, held in (("holdout-2026", 5), ("holdout-q4", 10)):
        designs.append(
            {
                "key": key,
                "kind": "holdout",
                "name": key,
                "team": "growth",
                "variants": [
                    {"key": "holdout", "weight": held},
                    {"key": "general", "weight": 100 - held},
                ],
            }
        )
    catalog = ws.catalog()
    with ws.registry() as reg:  # one connection for all (the service opens one per call)
        for spec in designs:
            with reg.session() as s:
                create_experiment(s, spec=svc.apply_defaults(spec, catalog), catalog=catalog)
            with reg.session() as s:
                start_experiment(s, key=spec["key"])
    print(f"registered in {time.monotonic() - began:.1f} s")
    port = free_port()
    proc = start_collector(root, port)
    yield f"http://127.0.0.1:{port}", root, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def _units() -> list[dict[str, Any]]:
    rng = random.Random(15)
    units = []
    for _ in range(N_UNITS):
        attrs = random_attributes(rng)
        unit = random_id(rng)
        if unit is not None:
            attrs["id"] = unit
        units.append(attrs)
    return units


def test_the_payload_is_cached_by_etag_and_readable_from_any_origin(
    server: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    url, _, _ = server
    first = httpx.get(f"{url}/api/features/{KEY}")
    assert first.status_code == 200
    assert first.headers["access-control-allow-origin"] == "*"
    doc = first.json()
    assert doc["status"] == 200
    assert len(doc["features"]) == N_EXPERIMENTS + 2
    holdout = doc["features"]["$holdout:holdout-2026"]["rules"][0]
    assert holdout["weights"] == [0.05, 0.95]
    assert holdout["meta"] == [{"key": "holdout"}, {"key": "general"}]
    etag = first.headers["etag"]
    assert (
        httpx.get(f"{url}/api/features/{KEY}", headers={"If-None-Match": etag}).status_code == 304
    )
    assert httpx.get(f"{url}/api/features/not-a-key").status_code == 401


def test_every_sdk_assigns_every_unit_alike(
    server: tuple[str, Path, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    url, root, proc = server
    units = _units()
    clock = time.monotonic()

    def lap(what: str) -> None:
        nonlocal clock
        print(f"{what}: {time.monotonic() - clock:.1f} s")
        clock = time.monotonic()

    # GrowthBook's JavaScript SDK, from the same URL; it posts the exposures it tracks.
    # It runs in Node beside the Python work below (two cores: the test takes less time).
    config = httpx.get(f"{url}/api/sdk/config", headers={"X-API-Key": KEY}).json()
    keys = sorted(e["key"] for e in config["experiments"])
    (tmp_path / "in.json").write_text(
        json.dumps({"keys": keys, "users": units, "track": TRACKED_UNITS, "collectorKey": KEY})
    )
    js_run = start_node_oracle(
        "features", url, KEY, str(tmp_path / "in.json"), str(tmp_path / "out.json")
    )
    client = tinylift.Client(url, api_key=KEY)
    try:
        assert sorted(client.experiments) == keys
        assert len(keys) == N_EXPERIMENTS
        rules = {k: client.rule(k) for k in keys}
        # tinylift, one unit at a time and all at once
        scalar = [[client.variant(k, None, u, log=False) for k in keys] for u in units]
        names = sorted({n for u in units for n in u})
        columns = {n: [u.get(n) for u in units] for n in names}
        lap("tinylift scalar")
        batch = {k: client.assign_many(k, None, columns).tolist() for k in keys}
        lap("tinylift batch")
    finally:
        client.close()
    # GrowthBook's Python SDK, from the served payload (fetched by the SDK's own
    # repository once, then evaluated offline: its online mode checks the cache per call)
    payload = feature_repo.load_features(url, KEY)
    assert payload is not None
    gb = GrowthBook(features=payload["features"], saved_groups=payload.get("savedGroups"))
    assert set(keys) <= set(gb.get_features())
    python = []
    for u in units:
        gb.set_attributes(u)
        row = []
        for k in keys:
            res = gb.eval_feature(k)
            row.append(res.experimentResult.key if res.source == "experiment" else None)
        python.append(row)
    lap("GrowthBook Python")
    assert js_run.wait(timeout=600) == 0, "the JavaScript oracle failed"
    js = json.loads((tmp_path / "out.json").read_text())
    lap("GrowthBook JavaScript")

    enrolled = mismatches = 0
    for i, u in enumerate(units):
        for j, k in enumerate(keys):
            ours = scalar[i][j]
            enrolled += ours is not None
            mismatches += batch[k][i] != ours
            mismatches += js["rows"][i][j] != ours
            if not _python_differs(rules[k].full_condition, u):
                mismatches += python[i][j] != ours
    assert mismatches == 0
    assert 0.05 * N_UNITS * N_EXPERIMENTS < enrolled < 0.8 * N_UNITS * N_EXPERIMENTS
    # units of every kind of id are enrolled somewhere; none without an id
    kinds = {type(u.get("id")).__name__ for i, u in enumerate(units) if any(scalar[i])}
    assert {"str", "int", "float"} <= kinds
    by_id = [j for j, k in enumerate(keys) if rules[k].hash_attribute == "id"]
    for i, u in enumerate(units):
        if u.get("id") in (None, "", 0):
            assert all(scalar[i][j] is None for j in by_id), u

    # The tracking callback's exposures: the collector took exactly the valid ones
    # and refused the rest by field and reason (ids over 200 characters among them)
    assert len(js["accepted"]) > 1000
    for unit, field, reason in js["rejected"]:
        assert field == "unit_id", (unit, reason)
        assert reason
        if len(unit) > MAX_ID_LENGTH:
            assert str(MAX_ID_LENGTH) in reason
    assert any(len(unit) > MAX_ID_LENGTH for unit, _, _ in js["rejected"])
    proc.send_signal(signal.SIGTERM)  # the loader moves what it acknowledged, then stops
    proc.wait(timeout=120)
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        stored = con.execute(
            "select experiment_key, variant_key, unit_id from exposures"
        ).fetchall()
    finally:
        con.close()
    assert sorted(map(tuple, js["accepted"])) == sorted(stored)
