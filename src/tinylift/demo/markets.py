"""The simulated company's markets: weekly sell-through and returns in 40 countries.

Each market has a size, a region (seasons differ by hemisphere and region),
its own slow trend and loadings on two shared latent swings (the economy,
category fashion), and week-to-week noise that persists (AR(1)). The
market-level tests of the demo are built on it:

* a packaging change rolled out to 8 markets at week 78 with a known lift
  (:data:`PACKAGING_LIFT` of sell-through, and returns down);
* a staggered roll-out (a retail display) reaching cohorts of markets at
  weeks 60, 70 and 80, its lift growing with the weeks since it arrived.

``baseline(seed)`` is the same world with no change anywhere: the null
simulations draw their placebo tests from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MARKETS",
    "PACKAGING_LIFT",
    "PACKAGING_START",
    "MarketPanel",
    "baseline",
    "demo_markets",
    "staggered_lift",
]

#: (country, region)
MARKETS: Final = (
    ("US", "north-america"), ("CA", "north-america"), ("MX", "latam"), ("BR", "latam"),
    ("AR", "latam"), ("CL", "latam"), ("CO", "latam"), ("PE", "latam"),
    ("GB", "europe"), ("IE", "europe"), ("DE", "europe"), ("AT", "europe"),
    ("CH", "europe"), ("FR", "europe"), ("BE", "europe"), ("NL", "europe"),
    ("LU", "europe"), ("ES", "europe"), ("PT", "europe"), ("IT", "europe"),
    ("SE", "nordics"), ("NO", "nordics"), ("DK", "nordics"), ("FI", "nordics"),
    ("PL", "europe"), ("CZ", "europe"), ("HU", "europe"), ("RO", "europe"),
    ("GR", "europe"), ("TR", "europe"), ("JP", "apac"), ("KR", "apac"),
    ("AU", "apac"), ("NZ", "apac"), ("SG", "apac"), ("IN", "apac"),
    ("ZA", "africa"), ("AE", "middle-east"), ("SA", "middle-east"), ("IL", "middle-east"),
)  # fmt: skip
WEEKS: Final = 104
#: the packaging change: +3 % sell-through, -10 % returns, from week 78 in 8 markets
PACKAGING_START: Final = 78
PACKAGING_LIFT: Final = 0.03
PACKAGING_RETURNS: Final = -0.10
PACKAGING_MARKETS: Final = ("DE", "FR", "ES", "IT", "NL", "SE", "PL", "AT")
#: the staggered display roll-out: cohorts of markets and the week each starts
STAGGERED: Final = {60: ("BR", "MX", "AR", "CL"), 70: ("JP", "KR", "AU", "NZ"),
                    80: ("GB", "IE", "BE", "PT")}  # fmt: skip
_SOUTH: Final = {"BR", "AR", "CL", "PE", "AU", "NZ", "ZA"}


@dataclass(frozen=True)
class MarketPanel:
    """Weekly series per market (rows follow ``markets``)."""

    markets: tuple[str, ...]
    regions: tuple[str, ...]
    size: NDArray[np.float64]
    sell_through: NDArray[np.float64]
    returns: NDArray[np.float64]

    @property
    def weeks(self) -> int:
        return int(self.sell_through.shape[1])


def staggered_lift(weeks_since: NDArray[np.int64]) -> NDArray[np.float64]:
    """The display's lift after so many weeks: 1 % at once, growing to 8 % over 40 weeks."""
    w = np.clip(weeks_since, 0, 40).astype(np.float64)
    return np.where(weeks_since >= 0, 0.01 + 0.07 * w / 40, 0.0)


def baseline(seed: int = 0, weeks: int = WEEKS) -> MarketPanel:
    """The markets with no change anywhere."""
    rng = np.random.default_rng(seed)
    n = len(MARKETS)
    names = tuple(m for m, _ in MARKETS)
    regions = tuple(r for _, r in MARKETS)
    size = np.exp(rng.normal(np.log(20_000), 0.9, n))
    t = np.arange(weeks)
    phase = np.array([np.pi if m in _SOUTH else 0.0 for m in names]) + rng.normal(0, 0.3, n)
    season = 0.12 * np.sin(2 * np.pi * t[None, :] / 52 + phase[:, None])
    holiday = (
        0.25
        * np.exp(-0.5 * ((t % 52 - 47) / 1.5) ** 2)[None, :]
        * rng.uniform(0.5, 1.5, n)[:, None]
    )
    factors = np.cumsum(rng.normal(0, 0.01, (2, weeks)), axis=1)
    loadings = rng.normal(1.0, 0.5, (n, 2))
    trend = rng.normal(0.0005, 0.001, n)[:, None] * t[None, :]
    noise = np.zeros((n, weeks))
    shocks = rng.normal(0, 0.04, (n, weeks))
    for k in range(weeks):
        noise[:, k] = (0.5 * noise[:, k - 1] if k else 0.0) + shocks[:, k]
    log_level = season + holiday + loadings @ factors + trend + noise
    sell = size[:, None] * np.exp(log_level)
    rate = rng.uniform(0.06, 0.12, n)[:, None] * np.exp(rng.normal(0, 0.05, (n, weeks)))
    return MarketPanel(names, regions, size, sell, sell * rate)


def demo_markets(seed: int = 7) -> tuple[MarketPanel, MarketPanel]:
    """The packaging test's panel and the staggered roll-out's panel, with their changes."""
    base = baseline(seed)
    idx = {m: i for i, m in enumerate(base.markets)}
    sell = base.sell_through.copy()
    ret = base.returns.copy()
    for m in PACKAGING_MARKETS:
        sell[idx[m], PACKAGING_START:] *= 1 + PACKAGING_LIFT
        ret[idx[m], PACKAGING_START:] *= (1 + PACKAGING_LIFT) * (1 + PACKAGING_RETURNS)
    packaging = MarketPanel(base.markets, base.regions, base.size, sell, ret)
    other = baseline(seed + 1)
    sell2 = other.sell_through.copy()
    t = np.arange(other.weeks)
    for week, markets in STAGGERED.items():
        for m in markets:
            sell2[idx[m]] *= 1 + staggered_lift(t - week)
    return packaging, MarketPanel(other.markets, other.regions, other.size, sell2, other.returns)
