"""Assignment speed: tinylift's public API against GrowthBook's Python SDK, same run.

Four ways to assign the same units to one experiment (3 variants, 80 %
coverage, hash version 2), all giving identical variants (checked):

- GrowthBook's ``GrowthBook.run(Experiment)``, one unit at a time (the SDK's API);
- GrowthBook's hash helpers ``gbhash`` + ``chooseVariation`` in a loop;
- tinylift's ``Assigner.variant``, one unit at a time;
- tinylift's ``Assigner.assign_many`` on a column of ids (the batch API).

Then the time to hash one id of growing length on both tinylift paths
(linear: ten times the length takes about ten times as long) and the peak
memory of a batch that holds one very long id.

python benchmarks/bench_assignment.py [--units 1000000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import growthbook.core as gbcore
import numpy as np
from growthbook import Experiment, GrowthBook

from tinylift.assignment import Assigner, ExperimentRule, bucket_ranges, gb_hash, hash_many


def per_unit(seconds: float, n: int) -> str:
    return f"{seconds / n * 1e9:9.0f} ns/unit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=1_000_000)
    args = parser.parse_args()
    key = "pricing-test-2026"
    weights = (0.5, 0.25, 0.25)
    rule = ExperimentRule(key, ("control", "b", "c"), weights=weights, coverage=0.8)
    assigner = Assigner([rule])
    units = np.char.add("user-", np.arange(args.units).astype(str))  # a DataFrame column
    sample = units[: min(50_000, args.units)].tolist()

    experiment = Experiment(
        key=key, variations=[0, 1, 2], weights=list(weights), coverage=0.8, hashVersion=2
    )
    gb = GrowthBook(attributes={})
    t = time.perf_counter()
    sdk_run = []
    for u in sample:
        gb.set_attributes({"id": u})
        res = gb.run(experiment)
        sdk_run.append(res.variationId if res.inExperiment else -1)
    run_s = time.perf_counter() - t

    ranges = bucket_ranges(3, 0.8, list(weights))
    t = time.perf_counter()
    helpers = [gbcore.chooseVariation(gbcore.gbhash(key, u, 2), ranges) for u in sample]  # type: ignore[arg-type]
    helpers_s = time.perf_counter() - t
    assert helpers == sdk_run

    assigner.variant(key, sample[0])  # builds the digit table once (about 0.3 s)
    t = time.perf_counter()
    single = [assigner.variant(key, u) for u in sample]
    single_s = time.perf_counter() - t
    assert [rule.variants.index(v) if v else -1 for v in single] == sdk_run

    batch_check = assigner.assign_many(key, units[: len(sample)])
    assert batch_check.tolist() == sdk_run, "the batch path differs from the SDK"
    t = time.perf_counter()
    assigner.assign_many(key, units)
    batch_s = time.perf_counter() - t

    n = len(sample)
    print(f"{n:,} units (the batch: {args.units:,}), one experiment")
    print(f"GrowthBook run() loop          {per_unit(run_s, n)}")
    print(f"GrowthBook gbhash+choose loop  {per_unit(helpers_s, n)}  x{run_s / helpers_s:.1f}")
    print(f"tinylift Assigner.variant      {per_unit(single_s, n)}  x{run_s / single_s:.1f}")
    print(
        f"tinylift Assigner.assign_many  {per_unit(batch_s, args.units)}"
        f"  x{run_s / n / (batch_s / args.units):.0f}  (vs run(); "
        f"x{helpers_s / n / (batch_s / args.units):.0f} vs the helpers)"
    )

    print("\nOne id of growing length (linear time on both paths):")
    base = None
    for length in (10_000, 100_000, 1_000_000):
        long_id = "x" * length
        t = time.perf_counter()
        gb_hash(key, long_id, 2)
        scalar_s = time.perf_counter() - t
        t = time.perf_counter()
        hash_many(key, [long_id, "user-1"], 2)
        batch_one_s = time.perf_counter() - t
        base = base or scalar_s
        print(
            f"  {length:>9,} characters: single {scalar_s * 1e3:7.1f} ms (x{scalar_s / base:5.1f})"
            f"   batch {batch_one_s * 1e3:7.1f} ms"
        )

    ids = [f"user-{i}" for i in range(10_000)]
    ids[5_000] = "y" * 10_000
    tracemalloc.start()
    assigner.assign_many(key, ids)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\n10,000 ids, one of 10,000 characters: peak {peak / 2**20:.1f} MB in assign_many")


if __name__ == "__main__":
    main()
