"""`tinylift serve` under load: pages answer and an analysis runs while 5,000 events/s
arrive; a SIGKILL loses no acknowledged event."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import duckdb
import httpx
from tests.collector.conftest import KEY, free_port, start_collector
from tests.web.conftest import PASSWORD

from tinylift.service import Workspace
from tinylift.service.users import add_user

RATE = 5_000  # events per second the load script sends


def test_pages_and_an_analysis_under_load_then_kill_9_loses_nothing(
    web_demo: Path, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(web_demo, root, ignore=shutil.ignore_patterns("server.json", "spool"))
    (root / "tinylift.yml").write_text("refresh_every_minutes: 0\n")
    add_user(Workspace.open(root), "ed", PASSWORD, role="editor")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_collector(root, port, "serve")
    acknowledged: list[str] = []
    stop = threading.Event()

    def load(first: int) -> None:
        """Half the rate, in batches of 250, paced; a batch is retried until answered."""
        i = first
        with httpx.Client(headers={"X-API-Key": KEY}, timeout=30) as client:
            next_at = time.monotonic()
            while not stop.is_set():
                batch = [
                    {
                        "event_id": f"load-{n}",
                        "unit_id": f"u-{n % 997}",
                        "timestamp": "2026-03-01T10:00:00Z",
                        "event_name": "purchase",
                        "value": 1.0,
                    }
                    for n in range(i, i + 250)
                ]
                try:
                    r = client.post(f"{base}/api/events", json=batch)
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 200 and r.json()["accepted"] == 250:
                    acknowledged.extend(str(e["event_id"]) for e in batch)
                i += 250
                next_at += 250 / (RATE / 2)
                time.sleep(max(0.0, next_at - time.monotonic()))

    workers = [threading.Thread(target=load, args=(k * 10_000_000,)) for k in range(2)]
    start = time.monotonic()
    for w in workers:
        w.start()
    try:
        with httpx.Client(base_url=base, timeout=30) as web:
            me = web.post("/api/v1/session", json={"handle": "ed", "password": PASSWORD}).json()
            started = web.post("/api/v1/refresh", headers={"X-CSRF-Token": me["csrf"]})
            assert started.status_code == 202
            pages = 0
            deadline = time.monotonic() + 300  # generous
            while time.monotonic() < deadline:
                assert web.get("/experiments").status_code == 200
                pages += 1
                job = web.get("/api/v1/refresh").json()
                if job["state"] == "idle" and job["runs"] >= 1 and pages >= 5:
                    break
                time.sleep(0.2)
            assert job["state"] == "idle", "the analysis did not finish under load"
            assert job["error"] is None
            assert job["analysed"] > 0
        rate = len(acknowledged) / (time.monotonic() - start)
        os.kill(proc.pid, signal.SIGKILL)  # while the load goes on
        proc.wait(timeout=30)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=30)
    print(f"serve under load: {rate:.0f} acknowledged events/s, {pages} pages")
    assert rate >= 0.8 * RATE, f"{rate:.0f} events/s acknowledged"
    proc = start_collector(root, port, "serve")  # the spool left behind loads at start-up
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("select event_id from events where event_id like 'load-%'").fetchall()
        stored = {r[0] for r in rows}
    finally:
        con.close()
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged events lost"
