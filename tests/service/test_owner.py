"""One process owns the warehouse; commands from other shells ask it, and miss nothing."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import yaml
from tests.collector.conftest import KEY, free_port, start_collector

pytestmark = pytest.mark.slow

CUTOFF = "2027-01-01"


def tinylift(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tinylift.cli.main", *args, "--dir", str(ws)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def analysed(ws: Path) -> dict[str, Any]:
    done = tinylift(ws, "analyze", "--all", "--json", "--no-store", "--cutoff", CUTOFF)
    assert done.returncode == 0, done.stderr
    return {c["experiment"]: c for c in json.loads(done.stdout)["scorecards"]}


def refreshed_units(ws: Path, key: str) -> int:
    done = tinylift(ws, "refresh", key, "--json")
    assert done.returncode == 0, done.stderr
    return int(sum(json.loads(done.stdout)[0]["units"].values()))


def conversions(card: dict[str, Any]) -> float:
    rows = [r for r in card["rows"] if r["metric"] == "conversion"]
    control = rows[0]["control_value"] * rows[0]["n_control"]
    return control + sum(r["treatment_value"] * r["n_treatment"] for r in rows)


@pytest.fixture
def custom_ws(demo_workspace: Path, tmp_path: Path) -> Path:
    """A copy of the demo whose warehouse lives where the settings say, not the default."""
    ws = tmp_path / "ws"
    shutil.copytree(demo_workspace, ws)
    (ws / "data").mkdir()
    (ws / "warehouse.duckdb").rename(ws / "data" / "custom.duckdb")
    settings = yaml.safe_load((ws / "tinylift.yml").read_text()) or {}
    (ws / "tinylift.yml").write_text(
        yaml.safe_dump({**settings, "warehouse_file": "data/custom.duckdb"})
    )
    return ws


def test_analyze_from_another_shell_counts_every_acknowledged_row(custom_ws: Path) -> None:
    ws = custom_ws
    before = analysed(ws)  # no server yet: the command opens the warehouse itself
    listed = tinylift(ws, "experiments", "list", "--status", "running", "--json")
    running = json.loads(listed.stdout)  # at the end of the demo year: the holdout
    exp = running[0]
    key, variant = exp["key"], exp["variants"][1]["key"]
    started = datetime.fromisoformat(exp["started_at"])
    at = (started + timedelta(hours=1)).isoformat()
    units = [f"owner-test-{i}" for i in range(60)]
    refreshed_before = refreshed_units(ws, key)
    port = free_port()
    proc = start_collector(ws, port)
    try:
        assert (ws / "server.json").stat().st_mode & 0o777 == 0o600
        url, head = f"http://127.0.0.1:{port}", {"X-API-Key": KEY}
        exposures = [
            {"experiment_key": key, "variant_key": variant, "unit_id": u, "timestamp": at}
            for u in units
        ]
        purchases = [
            {
                "event_id": f"owner-purchase-{u}",
                "unit_id": u,
                "timestamp": (started + timedelta(hours=2)).isoformat(),
                "event_name": "purchase",
                "value": 50.0,
            }
            for u in units[:40]
        ]
        for path, rows in (("exposures", exposures), ("events", purchases)):
            answer = httpx.post(f"{url}/api/{path}", json=rows, headers=head, timeout=60).json()
            assert answer["accepted"] == len(rows), answer
        after = analysed(ws)  # right away: the server loads its spool before the job
        card, old = after[key], before[key]
        assert sum(card["units"].values()) == sum(old["units"].values()) + len(units)
        assert conversions(card) == pytest.approx(conversions(old) + 40, abs=1e-3)
        # the other commands that need the warehouse go through the server too
        assert refreshed_units(ws, key) == refreshed_before + len(units)
        csv = ws / "more.csv"
        csv.write_text(
            f"event_id,unit_id,timestamp,event_name,value\nowner-csv-1,{units[0]},{at},pageview,1\n"
        )
        loaded = tinylift(ws, "ingest", str(csv), "--kind", "events")
        assert loaded.returncode == 0, loaded.stderr
        assert "loaded" in loaded.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert not (ws / "server.json").exists()
    assert not (ws / "warehouse.duckdb").exists(), "the default file must not be created"
    con = duckdb.connect(str(ws / "data" / "custom.duckdb"), read_only=True)
    try:
        stored = con.execute(
            "select count(*) from exposures where unit_id like 'owner-test-%'"
        ).fetchone()
        csv_rows = con.execute("select count(*) from events where event_id = 'owner-csv-1'")
        assert stored == (len(units),)
        assert csv_rows.fetchone() == (1,)
    finally:
        con.close()


def test_jobs_need_the_owners_token(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from tinylift.collector import create_collector
    from tinylift.service import Workspace

    ws = Workspace.init(tmp_path / "w")
    app = create_collector(ws, api_keys=[KEY], load_every=3600, url="http://127.0.0.1:1")
    with TestClient(app) as client:
        for headers in ({}, {"Authorization": f"Bearer {KEY}"}, {"Authorization": "Bearer x"}):
            r = client.post("/api/jobs/refresh", json={"keys": []}, headers=headers)
            assert r.status_code == 401
        token = json.loads((tmp_path / "w" / "server.json").read_text())["token"]
        r = client.post(
            "/api/jobs/refresh",
            json={"keys": ["nope"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        # a user's mistake comes back as the error it is, with its status, never a 500
        assert r.status_code == 400
        assert r.json()["error"]["type"] == "ConfigError"
        assert "no metric catalog" in r.json()["error"]["message"]
    assert not (tmp_path / "w" / "server.json").exists()
