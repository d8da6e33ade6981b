"""The web app's list and experiment pages with 1,000 experiments in the registry.

Target: each page renders in under 300 ms (median of warm requests), printed
beside the time of a bare FastAPI JSON route measured in the same run (the
floor of any request through the same stack). Every experiment carries a
snapshot copied from a real analysis of the demo.

    python benchmarks/bench_web.py [--experiments 1000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tinylift.cli.main import main
from tinylift.registry import add_snapshot, create_experiment, latest_snapshot, start_experiment
from tinylift.service import Workspace
from tinylift.service.users import add_user
from tinylift.web import create_app

PASSWORD = "benchmark password"


def _median_ms(client: TestClient, path: str, repeat: int) -> float:
    client.get(path)  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = client.get(path)
        times.append(1000 * (time.perf_counter() - t))
        assert r.status_code == 200, (path, r.status_code)
    return statistics.median(times)


def main_(experiments: int, repeat: int) -> int:
    root = Path(tempfile.mkdtemp()) / "ws"
    print(f"building a demo workspace and {experiments:,} experiments ...", file=sys.stderr)
    args = ["--users", "20000", "--days", "66", "--seed", "5", "--no-serve"]
    assert main(["demo", "--dir", str(root), *args]) == 0
    ws = Workspace.open(root)
    add_user(ws, "bench", PASSWORD, role="viewer")
    catalog = ws.catalog()
    with ws.registry() as reg, reg.session() as s:
        snap = latest_snapshot(s, key="price-discount-10")
        results, settings, cutoff = snap.results, snap.settings, snap.data_cutoff
        for i in range(experiments):
            key = f"bench-{i:04d}"
            create_experiment(
                s,
                spec={
                    "key": key,
                    "name": f"Benchmark experiment {i}",
                    "hypothesis": "Something lifts conversion.",
                    "team": ["product", "sales", "marketing", "support", "operations"][i % 5],
                    "area": "pricing",
                    "variants": [
                        {"key": "control", "weight": 0.5},
                        {"key": "treatment", "weight": 0.5},
                    ],
                    "oec": "conversion",
                    "planned_units": 50_000,
                },
                catalog=catalog,
            )
            start_experiment(s, key=key)
            add_snapshot(
                s,
                key=key,
                data_cutoff=cutoff,
                catalog_version=catalog.version,
                settings=settings,
                results=results,
                recommendation="keep running",
            )
    bare = FastAPI()

    @bare.get("/bare")
    def bare_route() -> dict[str, int]:
        return {"ok": 1}

    with TestClient(create_app(ws, load_every=3600)) as client, TestClient(bare) as floor:
        r = client.post("/api/v1/session", json={"handle": "bench", "password": PASSWORD})
        assert r.status_code == 200
        rows = {
            "bare FastAPI JSON route (floor)": _median_ms(floor, "/bare", repeat),
            f"experiment list ({experiments:,} experiments)": _median_ms(
                client, "/experiments", repeat
            ),
            "experiment list, filtered by team": _median_ms(
                client, "/experiments?team=sales", repeat
            ),
            "experiment page (bench-0500)": _median_ms(client, "/experiments/bench-0500", repeat),
            "experiment page (price-discount-10)": _median_ms(
                client, "/experiments/price-discount-10", repeat
            ),
        }
    width = max(map(len, rows))
    for name, ms in rows.items():
        print(f"{name:<{width}}  {ms:8.1f} ms")
    slow = {k: v for k, v in rows.items() if "floor" not in k and v > 300}
    if slow:
        print(f"over 300 ms: {', '.join(slow)}")
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    a = parser.parse_args()
    sys.exit(main_(a.experiments, a.repeat))
