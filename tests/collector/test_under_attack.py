"""The collector as a served process under hostile clients: slow lorises, kills, poison."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import duckdb
import httpx
from tests.collector.conftest import KEY, free_port, start_collector

from tinylift.service import Workspace

HEADERS = {"X-API-Key": KEY}
READ_TIMEOUT = 3.0


def event(i: int, **over: object) -> dict[str, object]:
    return {
        "event_id": f"e-{i}",
        "unit_id": f"u-{i % 101}",
        "timestamp": "2026-03-01T10:00:00Z",
        "event_name": "purchase",
        "value": 1.0,
    } | over


def _closed(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closes the connection before the deadline."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            return False
        except OSError:
            return True
    return False


def test_two_hundred_half_sent_requests_are_closed_and_others_are_served(
    tmp_path: Path,
) -> None:
    Workspace.init(tmp_path, read_timeout=READ_TIMEOUT)
    port = free_port()
    proc = start_collector(tmp_path, port)
    socks: list[socket.socket] = []
    try:
        opened = time.monotonic()
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            if i % 2:  # headers never finished
                s.sendall(b"POST /api/events HTTP/1.1\r\nHost: x\r\nX-API-Key: ")
            else:  # headers sent, a body promised and never sent in full
                s.sendall(
                    b"POST /api/events HTTP/1.1\r\nHost: x\r\nX-API-Key: "
                    + KEY.encode()
                    + b"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{"
                )
            socks.append(s)
        # meanwhile the collector answers everyone else, at once
        with httpx.Client(headers=HEADERS, timeout=10) as client:
            t = time.monotonic()
            assert client.get(f"http://127.0.0.1:{port}/api/health").status_code == 200
            r = client.post(f"http://127.0.0.1:{port}/api/events", json=[event(1)])
            assert r.json()["accepted"] == 1
            assert time.monotonic() - t < READ_TIMEOUT, "the others waited on the slow ones"
        # every half-sent request is closed once the read timeout passes (with slack for
        # a loaded machine), none of them long after
        deadline = opened + READ_TIMEOUT + 15
        still_open = [i for i, s in enumerate(socks) if not _closed(s, deadline)]
        assert not still_open, f"{len(still_open)} of 200 connections still open"
    finally:
        for s in socks:
            s.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_four_clients_five_kills_and_poison_rows_lose_nothing(tmp_path: Path) -> None:
    """Every acknowledged row is stored exactly once; the poison rows change nothing."""
    Workspace.init(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/events"
    proc = start_collector(tmp_path, port)
    acknowledged: set[str] = set()
    poison_sent: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def client_loop(k: int) -> None:
        i = k * 10_000_000
        with httpx.Client(headers=HEADERS, timeout=10) as client:
            while not stop.is_set():
                batch = [event(n) for n in range(i, i + 200)]
                if (i // 200) % 5 == 0:  # every fifth batch carries a poison row
                    batch[7] = event(i + 7, properties={"note": "x" * 2_100_000})
                    with lock:
                        poison_sent.add(f"e-{i + 7}")
                while not stop.is_set():  # a real client retries until acknowledged
                    try:
                        r = client.post(url, json=batch)
                    except httpx.HTTPError:
                        time.sleep(0.2)
                        continue
                    if r.status_code == 200:
                        body = r.json()
                        refused = {x["index"] for x in body["rejected"]}
                        ids = {str(b["event_id"]) for j, b in enumerate(batch) if j not in refused}
                        with lock:
                            acknowledged.update(ids)
                        break
                    time.sleep(0.2)
                i += 200

    clients = [threading.Thread(target=client_loop, args=(k,)) for k in range(4)]
    for c in clients:
        c.start()
    kills = 0
    try:
        for _ in range(5):
            time.sleep(2)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            kills += 1
            proc = start_collector(tmp_path, port)
        time.sleep(2)
    finally:
        stop.set()
        for c in clients:
            c.join(timeout=30)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert kills == 5
    assert len(acknowledged) > 4_000, "too little load to mean anything"
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        total, distinct = con.execute(
            "select count(*), count(distinct event_id) from events"
        ).fetchone() or (0, 0)
        stored = {r[0] for r in con.execute("select event_id from events").fetchall()}
        quarantined = con.execute("select count(*) from quarantine").fetchone()
    finally:
        con.close()
    assert total == distinct, f"{total - distinct} rows stored twice"
    assert not acknowledged - stored, f"{len(acknowledged - stored)} acknowledged rows lost"
    assert not poison_sent & stored
    assert quarantined == (0,)
    assert not (tmp_path / "spool" / "failed").exists()
