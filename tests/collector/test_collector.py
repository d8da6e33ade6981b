"""The collector: per-row validation, auth, durability, throughput, kill -9."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import duckdb
import httpx
from fastapi.testclient import TestClient
from tests.collector.conftest import KEY, free_port, start_collector

from tinylift.collector import create_collector
from tinylift.service import Workspace

HEADERS = {"X-API-Key": KEY}


def event(i: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "event_id": f"e-{i}",
        "unit_id": f"u-{i % 97}",
        "timestamp": "2026-03-01T10:00:00Z",
        "event_name": "purchase",
        "value": 12.5,
        "properties": {"category": "camera"},
    }
    row.update(overrides)
    return row


def stored(ws: Path, table: str = "events") -> set[str]:
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    try:
        col = "event_id" if table == "events" else "unit_id"
        return {r[0] for r in con.execute(f"select {col} from {table}").fetchall()}
    finally:
        con.close()


def test_a_mixed_batch_stores_the_good_rows_and_rejects_each_bad_one(tmp_path: Path) -> None:
    app = create_collector(Workspace.init(tmp_path), api_keys=[KEY], load_every=3600)
    batch = [
        event(1),
        event(2, timestamp="not a time"),
        event(3, value="twelve"),
        event(4, event_name="bad name!"),
        event(5, timestamp="2026-03-01T10:00:00"),  # no time zone
        "not an object",
        event(6),
        event(6),  # duplicate id within the batch
        event(7, unexpected="x"),
    ]
    with TestClient(app) as client:
        r = client.post("/api/events", json=batch, headers=HEADERS)
        assert r.status_code == 200
        body = r.json()
    assert body["accepted"] == 2
    assert body["duplicates"] == 1
    assert [(x["index"], x["field"]) for x in body["rejected"]] == [
        (1, "timestamp"),
        (2, "value"),
        (3, "event_name"),
        (4, "timestamp"),
        (5, None),
        (8, "unexpected"),
    ]
    assert all(x["reason"] for x in body["rejected"])
    assert stored(tmp_path) == {"e-1", "e-6"}  # loaded at shutdown


def test_ten_thousand_malformed_events_are_all_rejected_and_none_stored(tmp_path: Path) -> None:
    app = create_collector(Workspace.init(tmp_path), api_keys=[KEY], load_every=3600)
    batch = [event(i, unit_id="") for i in range(10_000)]
    with TestClient(app) as client:
        body = client.post("/api/events", json=batch, headers=HEADERS).json()
    assert body["accepted"] == 0
    assert len(body["rejected"]) == 10_000
    assert {x["field"] for x in body["rejected"]} == {"unit_id"}
    assert stored(tmp_path) == set()


def test_requests_without_a_known_key_are_refused(tmp_path: Path) -> None:
    app = create_collector(Workspace.init(tmp_path), api_keys=[KEY], load_every=3600)
    with TestClient(app) as client:
        assert client.post("/api/events", json=[event(1)]).status_code == 401
        assert (
            client.post(
                "/api/events", json=[event(1)], headers={"Authorization": "Bearer nope"}
            ).status_code
            == 401
        )
        assert (
            client.post(
                "/api/events", json=[event(1)], headers={"Authorization": f"Bearer {KEY}"}
            ).json()["accepted"]
            == 1
        )


def test_duplicates_across_batches_are_stored_once(tmp_path: Path) -> None:
    app = create_collector(Workspace.init(tmp_path), api_keys=[KEY], load_every=3600)
    with TestClient(app) as client:
        client.post("/api/events", json=[event(1), event(2)], headers=HEADERS)
        again = client.post("/api/events", json=[event(2), event(3)], headers=HEADERS).json()
        # a row sent in an earlier batch is counted as a duplicate, not accepted twice
        assert (again["accepted"], again["duplicates"]) == (1, 1)
        client.post(
            "/api/exposures",
            json=[
                {
                    "experiment_key": "exp",
                    "variant_key": "control",
                    "unit_id": "u-1",
                    "timestamp": "2026-03-01T09:00:00Z",
                }
            ],
            headers=HEADERS,
        )
    assert stored(tmp_path) == {"e-1", "e-2", "e-3"}
    assert stored(tmp_path, "exposures") == {"u-1"}


def test_throughput_and_kill_9_lose_no_acknowledged_event(tmp_path: Path) -> None:
    port = free_port()
    proc = start_collector(tmp_path, port)
    url = f"http://127.0.0.1:{port}/api/events"
    acknowledged: list[str] = []
    stop = threading.Event()

    def post_batches(first: int) -> None:
        i = first
        with httpx.Client(headers=HEADERS, timeout=10) as client:
            while not stop.is_set():
                batch = [event(n) for n in range(i, i + 500)]
                try:
                    r = client.post(url, json=batch)
                except httpx.HTTPError:
                    return  # the collector is gone
                if r.status_code == 200 and r.json()["accepted"] == 500:
                    acknowledged.extend(str(e["event_id"]) for e in batch)
                i += 500

    # a bounded load from this (second) process: five seconds, two connections
    workers = [threading.Thread(target=post_batches, args=(k * 10_000_000,)) for k in range(2)]
    start = time.monotonic()
    for w in workers:
        w.start()
    time.sleep(5)
    rate = len(acknowledged) / (time.monotonic() - start)
    # kill -9 while the load goes on
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    stop.set()
    for w in workers:
        w.join(timeout=10)
    print(f"collector: {rate:.0f} acknowledged events/s")
    assert rate >= 5_000, f"{rate:.0f} events/s"
    # restart: the spool left behind is loaded before serving
    proc = start_collector(tmp_path, port)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    missing = set(acknowledged) - stored(tmp_path)
    assert not missing, f"{len(missing)} acknowledged events lost"
