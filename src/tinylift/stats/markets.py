"""Market-level tests: changes rolled out to whole markets, not randomised per user.

The data are a panel: one metric per market (country, region, retailer) and
period (week), ``Y`` shaped (markets, periods). Some markets are treated from
a period on; the rest are controls. Estimators:

* :func:`did` -- difference-in-differences of the treated markets' average
  against the controls' average, each measured from its own pre-period mean;
* :func:`synthetic_control` -- the treated average against a convex
  combination of control markets fitted to its pre-period path (Abadie,
  Diamond and Hainmueller 2010), optionally with a ridge penalty on the weights
  (the penalised variant: weights spread over more markets);
* :func:`staggered` -- roll-outs that reach markets at different times
  (Callaway and Sant'Anna 2021: each adoption cohort against markets never
  treated, from the period before it adopted), and :func:`twfe`, the two-way
  fixed-effects regression it replaces, biased when effects change over time.

Inference is by placebos: the same estimator applied to control markets as
if they had been treated (placebo in space). The p-value is the share of
placebo statistics at least as extreme as the real one, ``(1 + k) / (1 + B)``,
exact when markets were assigned at random; the interval is the estimate
plus or minus the normal quantile times the placebo estimates' standard
deviation (the placebo variance of Arkhangelsky et al. 2021). A design with
too few distinct placebos cannot reach ``alpha`` at all, and one with a short
pre-period cannot be checked: then no p-value is given and ``note`` says why.
Placebo in time (a fake start inside the pre-period) checks pre-trends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize
from scipy import stats as sps

from tinylift.errors import StatsError
from tinylift.results import Result

__all__ = [
    "MIN_PRE_PERIODS",
    "MarketEffect",
    "StaggeredEffect",
    "did",
    "frank_wolfe_weights",
    "simplex_weights",
    "staggered",
    "synthetic_control",
    "twfe",
]

F64 = NDArray[np.float64]

#: fewer pre-periods than this: pre-trends cannot be judged, no p-value is given
MIN_PRE_PERIODS = 4


@dataclass(frozen=True, eq=False, repr=False)
class MarketEffect(Result):
    """One market-level estimate: effect per treated market and period, in metric units."""

    method: str
    effect: float
    low: float
    high: float
    #: None when the design cannot hold its size (``note`` says why)
    p_value: float | None
    #: per period: the treated average, its counterfactual, and their gap
    treated: F64
    counterfactual: F64
    gap: F64
    #: the post-period gaps added up (per treated market)
    cumulative: F64
    start: int
    #: donor weights (synthetic control), else empty
    weights: F64
    #: the placebo estimates the inference rests on
    placebo: F64
    #: root mean squared gap before the start
    pre_rmspe: float
    #: placebo in time: the estimate and p-value of a fake start inside the pre-period
    pre_trend_effect: float | None
    pre_trend_p: float | None
    note: str = ""

    _repr_fields = ("method", "effect", "low", "high", "p_value")

    def to_dicts(self) -> list[dict[str, Any]]:
        return [
            {
                "method": self.method,
                "effect": self.effect,
                "low": self.low,
                "high": self.high,
                "p_value": self.p_value,
                "pre_rmspe": self.pre_rmspe,
                "pre_trend_p": self.pre_trend_p,
                "note": self.note,
            }
        ]


def _panel(y: Any, treated: Any, start: int) -> tuple[F64, NDArray[np.bool_]]:
    arr = np.asarray(y, dtype=np.float64)
    mask = np.asarray(treated, dtype=bool)
    if arr.ndim != 2:
        raise StatsError("the panel must be markets x periods (a 2-D array)")
    if mask.shape != (arr.shape[0],):
        raise StatsError(
            f"treated must flag each of the {arr.shape[0]} markets, not {mask.shape[0]} values"
        )
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise StatsError(f"the panel has a missing value (market {bad[0]}, period {bad[1]})")
    if not 1 <= mask.sum() < arr.shape[0] - 1:
        raise StatsError("a market test needs at least one treated and two control markets")
    if not 2 <= start < arr.shape[1]:
        raise StatsError(
            f"the start (period {start}) must leave at least two periods before it and one "
            f"after, in {arr.shape[1]} periods"
        )
    return arr, mask


def simplex_weights(target: F64, donors: F64, penalty: float = 0.0) -> F64:
    """Weights w >= 0, sum 1, minimising ||target - donors.T w||^2 + penalty ||w||^2.

    ``donors`` is (donors, periods). Solved as non-negative least squares with the
    sum as a heavily weighted extra row (and the ridge as extra rows).
    """
    j, t = donors.shape
    scale = max(float(np.abs(donors).max()), 1.0) * math.sqrt(t) * 1e3
    a = np.vstack([donors.T, np.full((1, j), scale)])
    b = np.concatenate([target, [scale]])
    if penalty > 0:
        a = np.vstack([a, math.sqrt(penalty) * np.eye(j)])
        b = np.concatenate([b, np.zeros(j)])
    w, _ = optimize.nnls(a, b, maxiter=50 * j)
    out: F64 = w / w.sum()
    return out


def frank_wolfe_weights(target: F64, donors: F64) -> F64:
    """The synthetic-DiD paper's solver for synthetic-control weights (Arkhangelsky et al.
    2021, reference implementation): Frank-Wolfe with exact line search from uniform
    weights and a ridge of 1e-6 of the noise level; after 100 steps, weights at most a
    quarter of the largest are dropped, then the steps go on until the objective falls
    by less than (1e-5 noise level)^2 a step. ``donors`` is (donors, periods)."""
    j, t = donors.shape
    noise = float(np.std(np.diff(donors, axis=1), ddof=1))
    zeta = 1e-6 * noise
    a = donors.T  # periods x donors
    eta = t * zeta**2
    full = np.hstack([a, target[:, None]])
    coef = np.empty(j + 1)
    coef[j] = -1.0

    def run(w: F64, steps: int) -> F64:
        vals: list[float] = []
        while len(vals) < steps and (len(vals) < 2 or vals[-2] - vals[-1] > (1e-5 * noise) ** 2):
            ax = a @ w
            half = (ax - target) @ a + eta * w
            i = int(np.argmin(half))
            d = -w.copy()
            d[i] = 1.0 - w[i]
            if not d.any():
                break
            de = a[:, i] - ax
            den = de @ de + eta * (d @ d)
            if den <= 0:
                break
            w = w + min(1.0, max(0.0, float(-(half @ d) / den))) * d
            coef[:j] = w
            err = full @ coef
            vals.append(zeta**2 * (w @ w) + (err @ err) / t)
        return w

    w = run(np.full(j, 1.0 / j), 100)
    w = np.where(w <= w.max() / 4, 0.0, w)
    out: F64 = run(w / w.sum(), 10_000)
    return out


def _sc_fit(
    y: F64,
    tr: NDArray[np.intp],
    donors: NDArray[np.intp],
    start: int,
    penalty: float,
    solver: str,
) -> tuple[F64, F64]:
    return y[tr].mean(axis=0), _weights(y, tr, donors, start, penalty, solver) @ y[donors]


def _did_fit(y: F64, tr: NDArray[np.intp], co: NDArray[np.intp], start: int) -> tuple[F64, F64]:
    target = y[tr].mean(axis=0)
    control = y[co].mean(axis=0)
    # the controls' path, moved to the treated average's pre-period level
    return target, control - control[:start].mean() + target[:start].mean()


def _sets(
    pool: NDArray[np.intp], k: int, draws: int, rng: np.random.Generator, skip: tuple[int, ...]
) -> NDArray[np.intp]:
    """Up to ``draws`` distinct sets of ``k`` markets from ``pool`` (all of them when there
    are no more), never the set ``skip``; one set per row, sorted."""
    total = math.comb(len(pool), k)
    if total <= draws + 1:
        import itertools

        rows = [c for c in itertools.combinations(pool.tolist(), k) if c != skip]
        return np.array(rows, dtype=np.intp).reshape(len(rows), k)
    # sets drawn uniformly, the repeats (and the real one) dropped in the order drawn
    out = np.empty((0, k), dtype=np.intp)
    while len(out) < draws:
        keys = rng.random((2 * draws, len(pool)))
        fresh = np.sort(pool[np.argsort(keys, axis=1)[:, :k]], axis=1)
        both = np.vstack([np.array([skip], dtype=np.intp).reshape(-1, k), out, fresh])
        _, first = np.unique(both, axis=0, return_index=True)
        keep = np.sort(first)
        keep = keep[keep >= (1 if skip else 0)]
        out = both[keep]
    return out[:draws]


def _batch(
    method: str,
    y: F64,
    sets: NDArray[np.intp],
    donors: NDArray[np.bool_],
    start: int,
    penalty: float,
    solver: str,
) -> tuple[F64, F64, F64]:
    """For each set (a row) analysed as if treated, with the ``donors`` outside it as
    controls: the estimate, and the root mean squared gap before and after the start."""
    b, n = len(sets), y.shape[0]
    member = np.zeros((b, n), dtype=bool)
    member[np.arange(b)[:, None], sets] = True
    pools = donors[None, :] & ~member
    if method == "synthetic_control":
        gaps = np.empty((b, y.shape[1]))
        for i in range(b):
            target, cf = _sc_fit(y, sets[i], np.flatnonzero(pools[i]), start, penalty, solver)
            gaps[i] = target - cf
    else:  # the same as _did_fit, for every set at once
        target = member @ y / sets.shape[1]
        control = pools @ y / pools.sum(axis=1, keepdims=True)
        level = target[:, :start].mean(axis=1, keepdims=True)
        gaps = target - (control - control[:, :start].mean(axis=1, keepdims=True) + level)
    return (
        gaps[:, start:].mean(axis=1),
        np.sqrt(np.mean(gaps[:, :start] ** 2, axis=1)),
        np.sqrt(np.mean(gaps[:, start:] ** 2, axis=1)),
    )


def _estimate(
    method: str,
    y: F64,
    treated: NDArray[np.bool_],
    start: int,
    *,
    alpha: float,
    draws: int,
    seed: int,
    penalty: float = 0.0,
    solver: str = "exact",
    pre_trend: bool = True,
) -> MarketEffect:
    rng = np.random.default_rng(seed)
    tr = np.flatnonzero(treated)
    co = np.flatnonzero(~treated)

    def fit(t_idx: NDArray[np.intp], pool: NDArray[np.intp]) -> tuple[F64, F64]:
        if method == "synthetic_control":
            return _sc_fit(y, t_idx, pool, start, penalty, solver)
        return _did_fit(y, t_idx, pool, start)

    def stat(target: F64, cf: F64) -> tuple[float, float, float]:
        gap = target - cf
        pre = float(np.sqrt(np.mean(gap[:start] ** 2)))
        post = float(np.sqrt(np.mean(gap[start:] ** 2)))
        return float(gap[start:].mean()), pre, post

    target, cf = fit(tr, co)
    effect, pre_rmspe, post_rmspe = stat(target, cf)
    everyone = np.arange(y.shape[0])
    k = len(tr)
    # the p-value: the assignments the design could have drawn (any k markets), each
    # analysed as if treated on the same data -- exact under the null when markets were
    # assigned at random
    sets = _sets(everyone, k, draws, rng, tuple(tr.tolist()))
    e_b, pre_b, post_b = _batch(
        method, y, sets, np.ones(y.shape[0], dtype=bool), start, penalty, solver
    )
    if method == "synthetic_control":
        # Abadie et al.: the post/pre ratio of root mean squared gaps, so a placebo
        # fitted badly before the start does not count as extreme
        ratio = post_rmspe / max(pre_rmspe, 1e-12)
        extreme = int(np.sum(post_b / np.maximum(pre_b, 1e-12) >= ratio))
    else:
        extreme = int(np.sum(np.abs(e_b) >= abs(effect)))
    # the interval: placebo estimates among controls only (untouched by the change),
    # whose spread is the estimate's standard error (placebo variance)
    placebo = _batch(
        method, y, _sets(co, k, min(draws, 199), rng, ()), ~treated, start, penalty, solver
    )[0]
    se = float(np.std(placebo, ddof=1)) if len(placebo) > 1 else math.nan
    z = sps.norm.ppf(1 - alpha / 2)
    notes = []
    p_value: float | None = (1 + extreme) / (1 + len(sets))
    smallest = 1 / (1 + len(sets))
    if smallest > alpha:
        notes.append(
            f"with {len(co)} control and {len(tr)} treated markets there are only "
            f"{len(sets) + 1} possible assignments: the smallest p-value possible is "
            f"{smallest:.3f}, above alpha {alpha}; add control markets"
        )
        p_value = None
    if start < MIN_PRE_PERIODS:
        notes.append(
            f"only {start} periods before the start: at least {MIN_PRE_PERIODS} are needed "
            "to fit and check the pre-period"
        )
        p_value = None
    pt_effect = pt_p = None
    if pre_trend and start >= 2 * MIN_PRE_PERIODS:
        # placebo in time: the same test with a fake start half-way through the pre-period
        fake = _estimate(
            method, y[:, :start], treated, start // 2,
            alpha=alpha, draws=draws, seed=seed + 1, penalty=penalty, solver=solver,
            pre_trend=False,
        )  # fmt: skip
        pt_effect, pt_p = fake.effect, fake.p_value
        if pt_p is not None and pt_p < alpha:
            notes.append(
                f"pre-trend: a fake start at period {start // 2} already shows an effect "
                f"({pt_effect:.4g}, p = {pt_p:.3f}); the markets were not on parallel paths"
            )
    gap = target - cf
    return MarketEffect(
        method=method,
        effect=effect,
        low=effect - z * se,
        high=effect + z * se,
        p_value=p_value,
        treated=target,
        counterfactual=cf,
        gap=gap,
        cumulative=np.cumsum(gap[start:]),
        start=start,
        weights=(
            _weights(y, tr, co, start, penalty, solver)
            if method == "synthetic_control"
            else np.empty(0)
        ),
        placebo=placebo,
        pre_rmspe=pre_rmspe,
        pre_trend_effect=pt_effect,
        pre_trend_p=pt_p,
        note="; ".join(notes),
    )


def _weights(
    y: F64,
    tr: NDArray[np.intp],
    co: NDArray[np.intp],
    start: int,
    penalty: float,
    solver: str = "exact",
) -> F64:
    target = y[tr].mean(axis=0)
    pre = y[co, :start]
    if solver == "frank-wolfe":
        return frank_wolfe_weights(target[:start], pre)
    # the penalty is relative to the donors' scale, so one setting fits any metric
    lam = penalty * float(np.mean(pre**2)) * start if penalty else 0.0
    return simplex_weights(target[:start], pre, lam)


def did(
    y: Any,
    treated: Sequence[bool] | NDArray[np.bool_],
    start: int,
    *,
    alpha: float = 0.05,
    draws: int = 999,
    seed: int = 0,
    pre_trend: bool = True,
) -> MarketEffect:
    """Difference-in-differences: (treated after - before) - (controls after - before).

    ``draws`` placebo assignments give the p-value; ``pre_trend`` adds the placebo-in-time
    check (a fake start half-way through the pre-period).
    """
    arr, mask = _panel(y, treated, start)
    return _estimate(
        "did", arr, mask, start, alpha=alpha, draws=draws, seed=seed, pre_trend=pre_trend
    )


def synthetic_control(
    y: Any,
    treated: Sequence[bool] | NDArray[np.bool_],
    start: int,
    *,
    penalty: float = 0.0,
    solver: str = "exact",
    alpha: float = 0.05,
    draws: int = 999,
    seed: int = 0,
    pre_trend: bool = True,
) -> MarketEffect:
    """The treated markets' average against a synthetic control fitted before ``start``.

    ``penalty`` (relative to the donors' mean square) spreads the weights over more
    markets. ``solver``: ``exact`` (non-negative least squares) or ``frank-wolfe``, the
    synthetic-DiD paper's procedure (:func:`frank_wolfe_weights`), whose estimates its
    published tables report.
    """
    if penalty < 0:
        raise StatsError(f"penalty must be 0 or more, not {penalty}")
    if solver not in ("exact", "frank-wolfe"):
        raise StatsError(f"solver must be exact or frank-wolfe, not {solver!r}")
    if penalty and solver != "exact":
        raise StatsError("a penalty goes with the exact solver (frank-wolfe has its own)")
    arr, mask = _panel(y, treated, start)
    return _estimate(
        "synthetic_control", arr, mask, start,
        alpha=alpha, draws=draws, seed=seed, penalty=penalty, solver=solver,
        pre_trend=pre_trend,
    )  # fmt: skip


@dataclass(frozen=True, eq=False, repr=False)
class StaggeredEffect(Result):
    """A staggered roll-out: overall effect, and per period since adoption."""

    method: str
    effect: float
    low: float
    high: float
    p_value: float | None
    #: effects by periods since adoption (0 = the first treated period)
    event_time: NDArray[np.int64]
    by_event_time: F64
    #: the estimates over markets resampled within cohorts
    bootstrap: F64
    note: str = ""

    _repr_fields = ("method", "effect", "low", "high", "p_value")


def _adoption(y: Any, adoption: Any) -> tuple[F64, NDArray[np.int64]]:
    arr = np.asarray(y, dtype=np.float64)
    g = np.asarray(adoption, dtype=np.int64)
    if arr.ndim != 2 or g.shape != (arr.shape[0],):
        raise StatsError("give a markets x periods panel and one adoption period per market")
    if not np.isfinite(arr).all():
        raise StatsError("the panel has a missing value")
    never = g < 0
    if never.sum() < 2:
        raise StatsError("a staggered roll-out needs at least two markets never treated")
    if (g[~never] < 1).any() or (g >= arr.shape[1]).any():
        raise StatsError("each adoption must leave a period before it and fall in the panel")
    return arr, g


def _cs(y: F64, g: NDArray[np.int64]) -> tuple[float, dict[int, float]]:
    """Callaway-Sant'Anna with never-treated controls, base period g - 1."""
    never = g < 0
    yc = y[never].mean(axis=0)
    cells: list[tuple[int, int, float]] = []  # (size, event time, ATT(g, t))
    for cohort in np.unique(g[~never]):
        members = g == cohort
        yg = y[members].mean(axis=0)
        base = cohort - 1
        for t in range(cohort, y.shape[1]):
            att = (yg[t] - yg[base]) - (yc[t] - yc[base])
            cells.append((int(members.sum()), t - cohort, float(att)))
    sizes = np.array([c[0] for c in cells], dtype=np.float64)
    atts = np.array([c[2] for c in cells])
    overall = float(np.sum(sizes * atts) / sizes.sum())
    by_e: dict[int, float] = {}
    for e in sorted({c[1] for c in cells}):
        pick = np.array([c[1] == e for c in cells])
        by_e[e] = float(np.sum(sizes[pick] * atts[pick]) / sizes[pick].sum())
    return overall, by_e


def _twfe(y: F64, g: NDArray[np.int64]) -> float:
    periods = np.arange(y.shape[1])
    d = ((g[:, None] >= 0) & (periods[None, :] >= g[:, None])).astype(np.float64)

    def demean(x: F64) -> F64:
        out: F64 = x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + x.mean()
        return out

    dd = demean(d)
    return float(np.sum(dd * demean(y)) / np.sum(dd * dd))


def _staggered(
    method: str, y: Any, adoption: Any, alpha: float, draws: int, seed: int
) -> StaggeredEffect:
    arr, g = _adoption(y, adoption)
    fit = _cs if method == "callaway_santanna" else (lambda a, b: (_twfe(a, b), {}))
    effect, by_e = fit(arr, g)
    rng = np.random.default_rng(seed)
    # the markets resampled with replacement within each cohort (the never-treated too):
    # the spread of the estimate over resamples is its standard error
    groups = [np.flatnonzero(g == c) for c in np.unique(g)]
    boot = []
    if min(len(m) for m in groups) >= 2:
        for _ in range(draws):
            pick = np.concatenate([rng.choice(m, size=len(m), replace=True) for m in groups])
            boot.append(fit(arr[pick], g[pick])[0])
    pl = np.asarray(boot)
    note = ""
    p: float | None = None
    low = high = math.nan
    if len(pl) >= 2:
        se = float(np.std(pl, ddof=1))
        z = sps.norm.ppf(1 - alpha / 2)
        low, high = effect - z * se, effect + z * se
        p = float(2 * sps.norm.sf(abs(effect) / se)) if se > 0 else None
    else:
        note = "a cohort (or the never-treated) has a single market: no interval or p-value"
    return StaggeredEffect(
        method=method,
        effect=effect,
        low=low,
        high=high,
        p_value=p,
        event_time=np.array(sorted(by_e), dtype=np.int64),
        by_event_time=np.array([by_e[e] for e in sorted(by_e)]),
        bootstrap=pl,
        note=note,
    )


def staggered(
    y: Any, adoption: Any, *, alpha: float = 0.05, draws: int = 199, seed: int = 0
) -> StaggeredEffect:
    """A roll-out reaching markets at different periods (``adoption``: first treated
    period per market, -1 for never): Callaway-Sant'Anna, unbiased under staggered timing."""
    return _staggered("callaway_santanna", y, adoption, alpha, draws, seed)


def twfe(
    y: Any, adoption: Any, *, alpha: float = 0.05, draws: int = 199, seed: int = 0
) -> StaggeredEffect:
    """The two-way fixed-effects regression of the metric on a treated flag: shown beside
    :func:`staggered` because it is biased when effects change with time since adoption."""
    return _staggered("twfe", y, adoption, alpha, draws, seed)
