"""Designing a market test: which markets to treat, and what it can detect.

Markets are assigned by stratified randomisation: ranked by their size on the
metric before the test, cut into strata of as many markets as there are to
treat... one treated market drawn at random from each stratum, so treated and
control markets span the same range of sizes.

Power is simulated on the history itself: a fake start is placed at random
inside the past (leaving the pre-period and the test's length), markets are
assigned as the design would, a lift is injected into the treated markets
after the fake start, and the test is run; the share of significant results
at each lift is the power, the smallest lift with 80 % power the minimum
detectable effect. The same simulations with no lift must reject at about
alpha: if they do not (the history is too short, the markets too few or too
unlike), or if every lift tried is detected every time, the power figures
mean nothing and the design is refused with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tinylift.errors import StatsError
from tinylift.markets.series import MarketSeries
from tinylift.stats.markets import MIN_PRE_PERIODS, did, synthetic_control

__all__ = ["Design", "design_test", "stratified_assignment"]

LIFTS = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.15, 0.2)
POWER = 0.8


def stratified_assignment(
    size: NDArray[np.float64], treated: int, rng: np.random.Generator
) -> NDArray[np.bool_]:
    """``treated`` markets, one drawn from each stratum of markets ranked by ``size``."""
    n = len(size)
    order = np.argsort(size)
    strata = np.array_split(order, treated)
    out = np.zeros(n, bool)
    for s in strata:
        out[rng.choice(s)] = True
    return out


@dataclass(frozen=True, eq=False, repr=False)
class Design:
    """A proposed market test and its simulated power."""

    metric: str
    method: str
    treated: tuple[str, ...]
    controls: tuple[str, ...]
    periods: int
    lifts: tuple[float, ...]
    power: tuple[float, ...]
    #: the smallest relative lift detected with 80 % power (None: none tried)
    mde: float | None
    #: the rejection rate with no lift (should be about alpha)
    size: float
    sims: int
    refused: str | None
    #: markets drawn at random (stratified), or given (a synthetic-control design)
    randomised: bool = True

    _repr_fields = ("metric", "treated", "mde", "refused")

    def to_dicts(self) -> list[dict[str, Any]]:
        return [{"lift": lift, "power": p} for lift, p in zip(self.lifts, self.power, strict=True)]


def design_test(
    series: MarketSeries,
    metric: str,
    *,
    treated: int | Sequence[str],
    periods: int,
    method: str = "synthetic_control",
    scale: str = "log",
    lifts: Sequence[float] = LIFTS,
    sims: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
) -> Design:
    """Markets to treat and the power of treating them for ``periods`` periods.

    ``treated``: how many markets to draw (stratified randomisation), or the markets
    that will be treated when they cannot be drawn at random (a synthetic-control
    design: its power is simulated with those markets at every fake start, so the
    size check at no lift also says whether the test holds its size for them).
    """
    y = series.metric(metric)
    fixed = None if isinstance(treated, int) else series.rows(list(treated))
    count = int(fixed.sum()) if fixed is not None else int(treated)  # type: ignore[arg-type]
    n, t = y.shape
    log = scale == "log"
    if log and not (y > 0).all():
        raise StatsError(f"{metric} has values of 0 or less: design it on scale level")
    if not 1 <= count <= n - 2:
        raise StatsError(f"treat between 1 and {n - 2} of the {n} markets, not {count}")
    if periods < 1:
        raise StatsError(f"the test must last at least one period, not {periods}")
    if method not in ("synthetic_control", "did"):
        raise StatsError(f"method must be synthetic_control or did, not {method!r}")
    lifts = tuple(sorted({0.0, *lifts}))
    rng = np.random.default_rng(seed)
    pre = max(2 * periods, MIN_PRE_PERIODS)
    refused = None
    if t < pre + periods:
        refused = (
            f"the history has {t} periods: a {periods}-period test needs at least {pre} "
            f"before a fake start to simulate its power ({pre + periods} in all)"
        )
    size_now = y[:, -pre:].mean(axis=1)
    chosen = fixed if fixed is not None else stratified_assignment(size_now, count, rng)
    power: list[float] = [math.nan] * len(lifts)
    size = math.nan
    if refused is None:
        fit = synthetic_control if method == "synthetic_control" else did
        hits = np.zeros(len(lifts))
        for i in range(sims):
            begin = int(rng.integers(0, t - pre - periods + 1))
            window = y[:, begin : begin + pre + periods]
            assign = (
                fixed
                if fixed is not None
                else stratified_assignment(window[:, :pre].mean(axis=1), count, rng)
            )
            for j, lift in enumerate(lifts):
                w = np.log(window) if log else window.copy()
                w[assign, pre:] += math.log1p(lift) if log else lift * w[assign, pre:]
                r = fit(w, assign, pre, alpha=alpha, draws=39, seed=i, pre_trend=False)
                if r.p_value is None:
                    refused = f"no p-value for this design: {r.note}"
                    break
                hits[j] += r.p_value <= alpha
            if refused:
                break
        if refused is None:
            power = list(hits / sims)
            size = power[0]
            mcse = math.sqrt(alpha * (1 - alpha) / sims)
            if size > alpha + 3 * mcse:
                refused = (
                    f"with no change at all the test came out significant in {size:.0%} of "
                    f"{sims} simulated past periods (alpha {alpha:.0%}): these markets do not "
                    "move together enough for its power figures to mean anything"
                )
            elif all(p >= 0.99 for p in power[1:]):
                refused = (
                    f"every lift tried ({lifts[1]:.1%} and up) is detected in 99 % or more "
                    "of the simulations: try smaller lifts before trusting this power"
                )
    mde = None
    if refused is None:
        for lift, p in zip(lifts[1:], power[1:], strict=True):
            if p >= POWER:
                mde = lift
                break
    return Design(
        metric=metric,
        method=method,
        treated=tuple(m for m, c in zip(series.markets, chosen, strict=True) if c),
        controls=tuple(m for m, c in zip(series.markets, chosen, strict=True) if not c),
        periods=periods,
        lifts=lifts,
        power=tuple(power),
        mde=mde,
        size=size,
        sims=sims,
        refused=refused,
        randomised=fixed is None,
    )
