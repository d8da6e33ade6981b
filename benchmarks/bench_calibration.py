"""Full calibration run: 10,000 simulated experiments per method and metric type.

Prints A/A false-positive rates, 95 % coverage at a true +8 % lift, and the
false-positive rate under 100 looks, each with its Monte Carlo standard
error and whether it lies within 3 SE of the target (sequential methods: at
or below it). Seeded; takes a few minutes.

    python benchmarks/bench_calibration.py [--sims 10000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tinylift.stats import bayesian, fixed_horizon, msprt_p_values, sequential
from tinylift.stats.calibration import METRIC_TYPES, peeking, simulate

ALPHA = 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sims", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=1_000, help="units per arm")
    args = parser.parse_args()
    sims, n = args.sims, args.n
    start = time.perf_counter()
    se_a = np.sqrt(ALPHA * (1 - ALPHA) / sims)
    rng = np.random.default_rng(2026)
    print(f"{sims:,} simulated experiments per cell, {n:,} units per arm, alpha {ALPHA}")
    print(f"{'metric':<10} {'method':<11} {'A/A reject':>11} {'coverage':>9}  verdict")
    ok = True
    for kind in METRIC_TYPES:
        cuped = kind == "cuped"
        null = simulate(kind, sims=sims, n=n, rng=rng)
        alt = simulate(kind, sims=sims, n=n, rng=rng, effect=0.08)
        methods = {
            "fixed": lambda m, c=cuped: fixed_horizon(m, cuped=c),
            "sequential": lambda m, c=cuped: sequential(m, cuped=c, tuning=2 * n),
            "bayesian": lambda m, c=cuped: bayesian(m, cuped=c),
        }
        for name, fn in methods.items():
            r0, r1 = fn(null.moments), fn(alt.moments)
            if name == "bayesian":
                ctw = r0.chance_to_win[:, 0]
                rate = ((ctw > 1 - ALPHA / 2) | (ctw < ALPHA / 2)).mean()
            else:
                rate = (r0.p_value[:, 0] < ALPHA).mean()
            lo, hi = r1.ci_low[:, 0], r1.ci_high[:, 0]
            cover = ((lo <= alt.true_effect) & (alt.true_effect <= hi)).mean()
            if name == "sequential":
                good = rate <= ALPHA + 3 * se_a and cover >= 1 - ALPHA - 3 * se_a
            else:
                good = abs(rate - ALPHA) <= 3 * se_a and abs(cover - 1 + ALPHA) <= 3 * se_a
            ok &= good
            print(f"{kind:<10} {name:<11} {rate:>11.4f} {cover:>9.4f}  {'ok' if good else 'OFF'}")
    print(f"(3 Monte Carlo SE = {3 * se_a:.4f})")

    looks, peek_sims = 100, min(sims, 10_000)
    mo, _ = peeking(sims=peek_sims, looks=looks, batch=500, rng=rng)
    fixed = fixed_horizon(mo)
    p_fixed = fixed.p_value[:, 0].reshape(peek_sims, looks)
    p_seq = sequential(mo, tuning=2 * 500 * looks).p_value[:, 0].reshape(peek_sims, looks)
    var = (fixed.se[:, 0] ** 2).reshape(peek_sims, looks)
    eff = fixed.effect[:, 0].reshape(peek_sims, looks)
    p_msprt = msprt_p_values(eff, var, tau2=float(np.median(var[:, -1])) * 4)
    se_p = np.sqrt(ALPHA * (1 - ALPHA) / peek_sims)
    print(f"\nchecked after each of {looks} looks ({peek_sims:,} A/A experiments):")
    for name, p in (("fixed horizon", p_fixed), ("confidence seq.", p_seq), ("mSPRT", p_msprt)):
        rate = (p < ALPHA).any(axis=1).mean()
        print(f"  {name:<16} false-positive rate {rate:.4f}")
        if name != "fixed horizon":
            ok &= rate <= ALPHA + 3 * se_p
    print(
        f"\n{'all within tolerance' if ok else 'SOME CELLS OFF'}; "
        f"{time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
