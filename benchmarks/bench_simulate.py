"""Simulator throughput and memory: bounded memory as the company grows.

Each size runs in a fresh process (peak RSS is per process). Prints users,
events, seconds, events/s and peak RSS; memory should stay flat with size
because units are generated in blocks.

    python benchmarks/bench_simulate.py [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def _child(users: int) -> None:
    from tinylift.demo.simulate import Simulation

    start = time.perf_counter()
    sim = Simulation(users=users, seed=0)
    events = exposures = 0
    for chunk in sim.chunks():
        events += chunk.events.num_rows
        exposures += chunk.exposures.num_rows
    sim.truth.table()
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "users": users,
                "events": events,
                "exposures": exposures,
                "seconds": seconds,
                "peak_rss_mb": rss_mb,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    rows = []
    for users in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(users)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append(json.loads(out))
    print(f"{'users':>12} {'events':>12} {'seconds':>8} {'events/s':>10} {'peak RSS':>9}")
    for r in rows:
        print(
            f"{r['users']:>12,} {r['events']:>12,} {r['seconds']:>8.1f} "
            f"{r['events'] / r['seconds']:>10,.0f} {r['peak_rss_mb']:>7.0f}MB"
        )
    if len(rows) > 1:
        growth = rows[-1]["users"] / rows[0]["users"]
        mem = rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
        print(f"users x{growth:.0f} -> peak memory x{mem:.2f} (bounded when close to 1)")


if __name__ == "__main__":
    main()
