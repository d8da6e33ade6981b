"""tinylift.Client against a real collector process."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from tests.collector.conftest import KEY, free_port, start_collector

import tinylift
from tinylift.assignment import MAX_ID_LENGTH, Assigner
from tinylift.demo.dataset import Company, write_catalog
from tinylift.demo.record import register_company
from tinylift.registry import Registry
from tinylift.service import Workspace
from tinylift.service.experiments import sdk_config

USERS = [f"user-{i}" for i in range(2_000)]


@pytest.fixture
def workspace(small_company: Company, tmp_path: Path) -> Path:
    ws = Workspace.init(tmp_path)
    write_catalog(tmp_path)
    with Registry(ws.registry_url) as reg:
        # as the registry stood in December: a few experiments are running
        register_company(reg, small_company.simulation, ws.catalog(), as_of_day=335)
    return tmp_path


@pytest.fixture
def collector(workspace: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    proc = start_collector(workspace, port)
    yield f"http://127.0.0.1:{port}", workspace
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


def exposures(ws: Path) -> set[tuple[str, str, str]]:
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("select experiment_key, variant_key, unit_id from exposures").fetchall()
        return {(a, b, c) for a, b, c in rows}
    finally:
        con.close()


def test_client_assigns_locally_as_the_served_configuration_says(
    collector: tuple[str, Path],
) -> None:
    url, ws = collector
    client = tinylift.Client(url, api_key=KEY)
    try:
        assert client.experiments, "nothing is running on day 335 of the demo's year"
        assert client.refresh() is False  # unchanged: 304 Not Modified
        reference = Assigner.from_dict(sdk_config(Workspace.open(ws)))
        held = [u for u in USERS if client.held_out(u)]
        if reference.holdouts:
            assert held == [u for u in USERS if any(h.holds(u) for h in reference.holdouts)]
        for exp in client.experiments:
            got = [client.variant(exp, u, log=False) for u in USERS[:500]]
            assert got == [reference.variant(exp, u) for u in USERS[:500]]
            batch = client.assign_many(exp, np.array(USERS[:500]))
            assert batch.tolist() == got
    finally:
        client.close()


def test_exposures_are_batched_and_flushed_on_close(workspace: Path) -> None:
    port = free_port()
    proc = start_collector(workspace, port)
    client = tinylift.Client(f"http://127.0.0.1:{port}", api_key=KEY, batch_size=300)
    logged = set()
    for exp in client.experiments:
        for u in USERS:
            v = client.variant(exp, u)
            if v is not None:
                logged.add((exp, v, u))
    client.close()
    # the collector owns the warehouse: stop it (it loads its spool) before reading
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert client.sent == len(logged) > 0
    assert client.failed == client.dropped == 0
    assert logged <= exposures(workspace)


def test_ids_longer_than_the_collector_stores_are_counted_not_sent(
    collector: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = collector
    client = tinylift.Client(url, api_key=KEY)
    try:
        exp = client.experiments[0]
        variant = client.rule(exp).variants[0]
        client.log_exposure(exp, variant, "u" * MAX_ID_LENGTH)  # the longest stored
        client.log_exposure(exp, variant, "u" * (MAX_ID_LENGTH + 1))
        assert client.flush(timeout=60)
        stats = client.stats()
        assert stats["acknowledged"] == 1
        assert stats["rejected"] == 1
        assert f"up to {MAX_ID_LENGTH}" in caplog.text
    finally:
        client.close()


def test_exposures_survive_a_collector_restart(workspace: Path) -> None:
    port = free_port()
    proc = start_collector(workspace, port)
    client = tinylift.Client(f"http://127.0.0.1:{port}", api_key=KEY, retries=8)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    exp = client.experiments[0]
    logged = {(exp, v, u) for u in USERS[:200] if (v := client.variant(exp, u)) is not None}
    time.sleep(1.0)  # the sender is now retrying against a closed port
    proc = start_collector(workspace, port)
    try:
        assert client.flush(timeout=60)
        client.close()
        assert client.sent == len(logged)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert logged <= exposures(workspace)


def test_logging_never_blocks_and_counts_what_it_drops(workspace: Path) -> None:
    port = free_port()
    proc = start_collector(workspace, port)
    client = tinylift.Client(
        f"http://127.0.0.1:{port}", api_key=KEY, max_buffer=10, retries=0, flush_every=60
    )
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    start = time.perf_counter()
    for u in USERS:
        client.log_exposure("exp", "control", u)
    assert time.perf_counter() - start < 1.0
    assert client.dropped >= len(USERS) - 10 - 500
    client.close(timeout=5)


def test_a_steady_stream_survives_three_kill_9_restarts_one_of_30_seconds(
    workspace: Path,
) -> None:
    """Nothing lost, nothing stored twice; rows the collector refuses are counted.

    One restart takes 30 s (longer than a loaded machine's slowest start, 21-53 s
    seen, outlasts a short retry window); the other two are quick."""
    import os
    import threading

    port = free_port()
    proc = start_collector(workspace, port)
    client = tinylift.Client(f"http://127.0.0.1:{port}", api_key=KEY, batch_size=200)
    exp = client.experiments[0]
    logged: set[tuple[str, str, str]] = set()
    bad = 0
    stop = threading.Event()

    def stream() -> None:
        nonlocal bad
        i = 0
        while not stop.is_set():
            u = f"stream-{i}"
            v = client.variant(exp, u)
            if v is not None:
                logged.add((exp, v, u))
            if i % 100 == 0:  # the collector refuses ids with edge spaces: counted, not lost
                client.log_exposure(exp, "control", f" padded-{i}")
                bad += 1
            i += 1
            time.sleep(0.005)

    sender = threading.Thread(target=stream)
    sender.start()
    try:
        for down in (30, 3, 3):
            time.sleep(2)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            time.sleep(down)  # a slow restart first: the client keeps what it was given
            proc = start_collector(workspace, port)
        time.sleep(3)
    finally:
        stop.set()
        sender.join(timeout=30)
    assert client.flush(timeout=120)
    client.close()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    stats = client.stats()
    assert (stats["pending"], stats["failed"], stats["dropped"]) == (0, 0, 0), stats
    assert stats["rejected"] >= bad > 0
    assert len(logged) > 1_000
    stored = exposures(workspace)
    assert not logged - stored, f"{len(logged - stored)} exposures lost"
    con = duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True)
    try:
        total, distinct = con.execute(
            "select count(*), count(distinct unit_id) from exposures where unit_id like 'stream-%'"
        ).fetchone() or (0, 0)
    finally:
        con.close()
    assert total == distinct == len(logged), "an exposure was stored twice"


def test_with_a_queue_dir_what_is_unsent_at_close_is_sent_by_the_next_client(
    workspace: Path, tmp_path: Path
) -> None:
    port = free_port()
    proc = start_collector(workspace, port)
    first = tinylift.Client(
        f"http://127.0.0.1:{port}", api_key=KEY, queue_dir=tmp_path / "q", flush_every=60
    )
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    exp = first.experiments[0]
    logged = {(exp, v, u) for u in USERS[:300] if (v := first.variant(exp, u)) is not None}
    first.close(timeout=2)  # the collector is down: the rows go to disk
    assert first.stats()["saved"] == len(logged) > 0
    proc = start_collector(workspace, port)
    try:
        second = tinylift.Client(f"http://127.0.0.1:{port}", api_key=KEY, queue_dir=tmp_path / "q")
        assert second.flush(timeout=60)
        second.close()
        assert second.stats()["acknowledged"] == len(logged)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert logged <= exposures(workspace)
    assert not list((tmp_path / "q").glob("exposures-*"))
