"""Rows the warehouse could not store are refused before they are acknowledged."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from tinylift.collector import create_collector
from tinylift.service import Workspace

KEY = "k"
HEADERS = {"X-API-Key": KEY}
BIG = "x" * 2_100_000  # over DuckDB's line limit once spooled


def event(i: int, **extra: object) -> dict[str, object]:
    return {
        "event_id": f"e-{i}",
        "unit_id": "u-1",
        "timestamp": "2026-03-01T09:00:00Z",
        "event_name": "purchase",
        **extra,
    }


def exposure(**extra: object) -> dict[str, object]:
    return {
        "experiment_key": "exp",
        "variant_key": "control",
        "unit_id": "u-1",
        "timestamp": "2026-03-01T09:00:00Z",
        **extra,
    }


def stored(ws: Path, table: str) -> int:
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    try:
        row = con.execute(f"select count(*) from {table}").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def test_poison_rows_are_refused_and_the_rest_stored(tmp_path: Path) -> None:
    app = create_collector(Workspace.init(tmp_path), api_keys=[KEY], load_every=0.2)
    with TestClient(app) as client:
        r = client.post(
            "/api/events", json=[event(1, properties={"note": BIG}), event(2)], headers=HEADERS
        ).json()
        assert (r["accepted"], [x["field"] for x in r["rejected"]]) == (1, ["properties"])
        for field in ("country", "platform"):
            r = client.post("/api/exposures", json=[exposure(**{field: BIG})], headers=HEADERS)
            assert r.json()["accepted"] == 0
            assert r.json()["rejected"][0]["field"] == field
        hostile = [
            event(3, timestamp="1969-12-31T23:59:59Z"),
            event(4, timestamp="2100-01-01T00:00:00Z"),
            event(5, unit_id="   "),
            event(6, unit_id=" u-1"),
            event(7, properties={"x": float("nan")}),
        ]
        r = client.post(
            "/api/events",
            content=json.dumps(hostile),  # NaN is written as the bare token NaN
            headers={"Content-Type": "application/json", **HEADERS},
        ).json()
        assert r["accepted"] == 0
        assert len(r["rejected"]) == 5
        assert client.post("/api/events", json=[event(8)], headers=HEADERS).json()["accepted"] == 1
        assert client.get("/api/health").json() == {"status": "ok"}
    assert stored(tmp_path, "events") == 2  # e-2 and e-8: every acknowledged row


def test_a_spool_file_the_loader_cannot_store_is_set_aside_and_said(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path)
    ws.spool_path.mkdir()
    poison = ws.spool_path / "events-1.jsonl"
    poison.write_text(json.dumps(event(1, properties={"note": BIG})) + "\n")
    app = create_collector(ws, api_keys=[KEY], load_every=0.2)
    with TestClient(app) as client:  # start-up loads the spool: it must not fail
        health = client.get("/api/health").json()
        assert health["status"] == "degraded"
        assert health["failures"][0]["file"] == "events-1.jsonl"
        assert client.post("/api/events", json=[event(2)], headers=HEADERS).json()["accepted"] == 1
    assert stored(tmp_path, "events") == 1
    assert (ws.spool_path / "failed" / "events-1.jsonl").exists()
    assert (ws.spool_path / "failed" / "events-1.jsonl.reason").read_text().strip()
