"""Assignment speed against the growthbook SDK's own hash-and-choose, same run.

Batch assignment takes ids as an array (a DataFrame column), in chunks of
32k ids; all three paths give identical variants (checked on a sample).

python benchmarks/bench_assignment.py [--units 1000000]
"""

from __future__ import annotations

import argparse
import time

import growthbook.core as gb
import numpy as np

from tinylift.assignment import (
    bucket_ranges,
    choose_many,
    chooser,
    gb_hash,
    hash_many,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=1_000_000)
    args = parser.parse_args()
    units = [f"user-{i}" for i in range(args.units)]
    ranges = bucket_ranges(3, 0.8, [0.5, 0.25, 0.25])
    # GrowthBook's default seed is the experiment key; keys look like this one
    seed = "pricing-test-2026"

    sample = units[:100_000]
    t = time.perf_counter()
    sdk = [gb.chooseVariation(gb.gbhash(seed, u, 2), ranges) for u in sample]
    sdk_per = (time.perf_counter() - t) / len(sample)

    choose = chooser(ranges)
    gb_hash(seed, sample[0], 2)  # builds the digit table once (about 0.3 s)
    t = time.perf_counter()
    ours_single = [choose(gb_hash(seed, u, 2)) for u in sample]  # type: ignore[arg-type]
    single_per = (time.perf_counter() - t) / len(sample)
    assert ours_single == sdk

    column = np.asarray(units)  # ids as a DataFrame column holds them
    batch_sample = choose_many(hash_many(seed, column[: len(sample)], 2), ranges)
    assert batch_sample.tolist() == sdk, "batch differs from the SDK"
    t = time.perf_counter()
    for start in range(0, len(column), 32_768):
        choose_many(hash_many(seed, column[start : start + 32_768], 2), ranges)
    batch_per = (time.perf_counter() - t) / len(units)

    print(f"growthbook SDK hash+choose   {sdk_per * 1e9:9.0f} ns/unit")
    print(
        f"tinylift single call         {single_per * 1e9:9.0f} ns/unit  x{sdk_per / single_per:.2f}"
    )
    print(
        f"tinylift batch (numpy)       {batch_per * 1e9:9.0f} ns/unit  x{sdk_per / batch_per:.1f}"
    )
    t = time.perf_counter()
    for start in range(0, len(units), 32_768):
        hash_many(seed, units[start : start + 32_768], 2)
    list_per = (time.perf_counter() - t) / len(units)
    print(f"  (hash only, from a Python list: {list_per * 1e9:.0f} ns/unit)")


if __name__ == "__main__":
    main()
