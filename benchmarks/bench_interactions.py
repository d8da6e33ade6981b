"""The interaction scan over every concurrent pair of 200 running experiments.

Synthetic program: ``--units`` customers, 20 layers of 10 experiments each
(200 running at once, two arms); in each layer a customer joins one of its
experiments with probability ``--share``, so every two experiments in
different layers share units: 19,000 concurrent pairs. Each customer makes
purchases (conversion, the OEC; revenue, a guardrail) before and after entry.

Measured in one run, on DuckDB in memory, best of ``--repeat``:

- refresh: the refresh of all 200 experiments (one pass of the exposures and
  events), as every analysis runs it;
- refresh + pairs: the same refresh also returning every pair's cells, from
  the same per-unit table (no second pass of the exposures);
- scan: the tests on those cells (assignment dependence and 2 x 2 contrasts
  on both metrics, one Benjamini-Hochberg family).

    python benchmarks/bench_interactions.py [--units 200000] [--share 0.5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from tinylift.metrics import parse_catalog
from tinylift.warehouse.contract import ExperimentWindow
from tinylift.warehouse.engine import DuckDBEngine
from tinylift.warehouse.run import refresh
from tinylift.warehouse.schema import EVENTS_SCHEMA, EXPOSURES_SCHEMA

LAYERS, PER_LAYER = 20, 10
START = datetime(2026, 3, 1, tzinfo=UTC)
CATALOG = """
events:
  purchase: {description: "An order; value is its amount."}
metrics:
  - name: conversion
    type: proportion
    event: purchase
    role: oec
    cuped: {pre_days: 28}
  - name: revenue
    type: mean
    event: purchase
    value: value
    role: guardrail
    margin: 0.05
"""


def program(units: int, share: float, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    """Exposures and events of the synthetic program."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"u{i}" for i in range(units)], dtype=object)
    parts = []
    for layer in range(LAYERS):
        joined = np.flatnonzero(rng.random(units) < share)
        exp = rng.integers(0, PER_LAYER, len(joined))
        arm = rng.integers(0, 2, len(joined))
        when = rng.integers(0, 14 * 86_400, len(joined))
        parts.append((joined, layer * PER_LAYER + exp, arm, when))
    who = np.concatenate([p[0] for p in parts])
    exp = np.concatenate([p[1] for p in parts])
    arm = np.concatenate([p[2] for p in parts])
    sec = np.concatenate([p[3] for p in parts])
    n = len(who)
    exposures = pa.table(
        {
            "experiment_key": pa.array([f"exp-{e:03d}" for e in exp]),
            "variant_key": pa.array(np.where(arm == 1, "treatment", "control")),
            "unit_id": pa.array(ids[who]),
            "timestamp": pa.array(
                (np.datetime64(START.replace(tzinfo=None), "us") + sec * 1_000_000).astype(
                    "datetime64[us]"
                )
            ).cast(pa.timestamp("us", tz="UTC")),
            "country": pa.nulls(n, pa.string()),
            "platform": pa.nulls(n, pa.string()),
            "attributes": pa.nulls(n, pa.string()),
        }
    ).cast(EXPOSURES_SCHEMA)
    k = rng.poisson(1.5, units)
    buyer = np.repeat(np.arange(units), k)
    t = rng.integers(-28 * 86_400, 42 * 86_400, len(buyer))
    m = len(buyer)
    events = pa.table(
        {
            "event_id": pa.array([f"e{i}" for i in range(m)]),
            "unit_id": pa.array(ids[buyer]),
            "timestamp": pa.array(
                (np.datetime64(START.replace(tzinfo=None), "us") + t * 1_000_000).astype(
                    "datetime64[us]"
                )
            ).cast(pa.timestamp("us", tz="UTC")),
            "event_name": pa.array(np.full(m, "purchase", dtype=object)),
            "value": pa.array(rng.gamma(2.0, 40.0, m)),
            "properties": pa.nulls(m, pa.string()),
        }
    )
    return exposures, events.cast(EVENTS_SCHEMA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=200_000)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from tinylift.analysis.interactions import concurrent_pairs, scan_pairs
    from tinylift.analysis.plan import ExperimentPlan

    exposures, events = program(args.units, args.share)
    engine = DuckDBEngine()
    engine.register("exposures", exposures)
    engine.register("events", events)
    catalog = parse_catalog(CATALOG)
    keys = [f"exp-{e:03d}" for e in range(LAYERS * PER_LAYER)]
    end = START + timedelta(days=60)
    windows = [
        ExperimentWindow(k, ("control", "treatment"), ("conversion", "revenue"), START, end)
        for k in keys
    ]
    plans = [
        ExperimentPlan.build(
            catalog, key=k, variants=("control", "treatment"), oec="conversion",
            guardrails=["revenue"], start=START, layer=f"layer-{i // PER_LAYER}",
        )
        for i, k in enumerate(keys)
    ]  # fmt: skip
    pairs = concurrent_pairs(plans)
    metrics = ["conversion", "revenue"]
    entries = exposures.num_rows
    print(
        f"{len(keys)} running experiments, {args.units:,} units, {entries:,} entries, "
        f"{events.num_rows:,} events; {len(pairs):,} concurrent pairs"
    )

    def best(work: object) -> tuple[float, object]:
        times, out = [], None
        for _ in range(args.repeat):
            t = time.perf_counter()
            out = work()  # type: ignore[operator]
            times.append(time.perf_counter() - t)
        return min(times), out

    alone, _ = best(lambda: refresh(engine, catalog, windows))
    both, result = best(
        lambda: refresh(engine, catalog, windows, pairs=pairs, pair_metrics=metrics)
    )
    shared = result.pairs  # type: ignore[attr-defined]

    def tests() -> list[dict[str, object]]:
        return scan_pairs(shared, plans)  # type: ignore[return-value]

    stats_time, rows = best(tests)
    flagged = sum(1 for r in rows if r["flagged"])  # type: ignore[union-attr]
    print(f"  refresh of 200 experiments          {alone:7.2f} s")
    print(
        f"  refresh + cells of {len(shared):,} pairs     {both:7.2f} s  "
        f"({both / alone:.2f}x the refresh alone, one pass of the exposures)"
    )
    print(
        f"  scan: {len(rows):,} tests, {flagged} flagged  {stats_time:7.2f} s  "  # type: ignore[arg-type]
        f"(no interaction was simulated: flags are false alarms)"
    )
    engine.close()


if __name__ == "__main__":
    main()
