"""Scorecard speed: 100 metrics x 4 variants, CUPED and sequential intervals.

Target: under 10 ms, vectorised over metrics. Baseline measured in the same
run: the per-metric Python loop a user would write with scipy.stats (Welch
t-test per treatment, CUPED theta per metric).

    python benchmarks/bench_stats.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy import stats

from tinylift.stats import Moments, fixed_horizon, sequential

M, K, N = 100, 4, 50_000


def make_moments(rng: np.random.Generator) -> Moments:
    n = np.full((M, K), float(N))
    mean = rng.normal(10, 1, (M, K, 2))
    s = mean * N
    cov = np.array([[4.0, 2.4], [2.4, 4.0]])
    ss = (N - 1) * cov + N * mean[..., :, None] * mean[..., None, :]
    return Moments.from_sums("mean", n, s, ss, metrics=[f"m{i}" for i in range(M)])


def engine(mo: Moments) -> None:
    sequential(mo, cuped=True)
    fixed_horizon(mo, cuped=True)


def scipy_loop(mo: Moments) -> None:
    # what one would write per metric: pooled theta, adjusted means, Welch test
    for i in range(M):
        n = mo.n[i]
        mean = mo.s[i] / n[:, None]
        cov = (mo.ss[i] - n[:, None, None] * mean[:, :, None] * mean[:, None, :]) / (
            n[:, None, None] - 1
        )
        theta = (cov[:, 0, 1] * n).sum() / (cov[:, 1, 1] * n).sum()
        pooled = mo.s[i, :, 1].sum() / n.sum()
        adj = mean[:, 0] - theta * (mean[:, 1] - pooled)
        sd = np.sqrt(cov[:, 0, 0] - 2 * theta * cov[:, 0, 1] + theta**2 * cov[:, 1, 1])
        for j in range(1, K):
            stats.ttest_ind_from_stats(adj[j], sd[j], n[j], adj[0], sd[0], n[0], equal_var=False)


def best_of(fn: object, mo: Moments, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(mo)  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    mo = make_moments(np.random.default_rng(0))
    engine(mo)  # warm up imports and caches
    ours = best_of(engine, mo, 20)
    loop = best_of(scipy_loop, mo, 5)
    print(f"scorecard {M} metrics x {K} variants, CUPED + sequential + fixed:")
    print(
        f"  tinylift (vectorised)   {ours * 1e3:8.2f} ms   target < 10 ms: "
        f"{'PASS' if ours < 0.010 else 'FAIL'}"
    )
    print(f"  scipy loop per metric   {loop * 1e3:8.2f} ms   ({loop / ours:.1f}x slower)")
    print(f"  per metric: {ours / M * 1e6:.1f} us (tinylift) vs {loop / M * 1e6:.1f} us (loop)")


if __name__ == "__main__":
    main()
