"""The simulated company's markets: weekly sell-through and returns in 40 countries.

Each market has a size, a region (seasons differ by hemisphere and region),
its own slow trend and loadings on two shared latent swings (the economy,
category fashion), and week-to-week noise that persists (AR(1)). The
market-level tests of the demo are built on it:

* a packaging change rolled out to 8 markets at week 78 with a known lift
  (:data:`PACKAGING_LIFT` of sell-through, and returns down);
* a staggered roll-out (a retail display) reaching cohorts of markets at
  weeks 60, 70 and 80, its lift growing with the weeks since it arrived.

``demo_series()`` is that world as a market series, ``demo_tests()`` the
tests as written down; ``baseline(seed)`` is the same world with no change anywhere: the null
simulations draw their placebo tests from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tinylift.markets.series import MarketSeries

__all__ = [
    "MARKETS",
    "PACKAGING_LIFT",
    "PACKAGING_START",
    "MarketPanel",
    "baseline",
    "demo_series",
    "demo_tests",
    "staggered_lift",
    "week",
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
#: the Monday the demo's series starts
FIRST_WEEK: Final = date(2025, 1, 6)
#: the packaging change: +5 % sell-through, -10 % returns, from week 78 in 8 markets
PACKAGING_START: Final = 78
PACKAGING_LIFT: Final = 0.05
PACKAGING_RETURNS: Final = -0.10
PACKAGING_MARKETS: Final = ("DE", "FR", "ES", "IT", "NL", "SE", "PL", "AT")
#: the staggered display roll-out: cohorts of markets and the week each starts
STAGGERED: Final = {60: ("US", "GB", "JP", "PL"), 70: ("CA", "DE", "KR", "CZ"),
                    80: ("FR", "SE", "IT", "AE")}  # fmt: skip
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
    """The display's lift after so many weeks: 2 % at once, growing to 12 % over 30 weeks."""
    w = np.clip(weeks_since, 0, 30).astype(np.float64)
    return np.where(weeks_since >= 0, 0.02 + 0.10 * w / 30, 0.0)


def baseline(seed: int = 0, weeks: int = WEEKS) -> MarketPanel:
    """The markets with no change anywhere."""
    rng = np.random.default_rng(seed)
    n = len(MARKETS)
    names = tuple(m for m, _ in MARKETS)
    regions = tuple(r for _, r in MARKETS)
    size = np.exp(rng.normal(np.log(20_000), 0.9, n))
    t = np.arange(weeks)
    phase = np.array([np.pi if m in _SOUTH else 0.0 for m in names]) + rng.normal(0, 0.15, n)
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


def demo_series(seed: int = 7) -> MarketSeries:
    """The demo's market series, one row per market and week from :data:`FIRST_WEEK`:
    the hub's ``sell_through`` and ``returns`` (the packaging change in
    :data:`PACKAGING_MARKETS` from week :data:`PACKAGING_START`), and the accessory line's
    ``accessory_units`` (the display reaching the cohorts of :data:`STAGGERED`)."""
    base = baseline(seed)
    idx = {m: i for i, m in enumerate(base.markets)}
    sell = base.sell_through.copy()
    ret = base.returns.copy()
    for m in PACKAGING_MARKETS:
        sell[idx[m], PACKAGING_START:] *= 1 + PACKAGING_LIFT
        ret[idx[m], PACKAGING_START:] *= (1 + PACKAGING_LIFT) * (1 + PACKAGING_RETURNS)
    accessories = baseline(seed + 1).sell_through * 0.3
    t = np.arange(base.weeks)
    for week, markets in STAGGERED.items():
        for m in markets:
            accessories[idx[m]] *= 1 + staggered_lift(t - week)
    bands = np.quantile(base.size, [1 / 3, 2 / 3])
    return MarketSeries(
        markets=base.markets,
        periods=tuple(FIRST_WEEK + timedelta(weeks=k) for k in range(base.weeks)),
        metrics={"sell_through": sell, "returns": ret, "accessory_units": accessories},
        attributes={
            m: {
                "country": m,
                "region": r,
                "size": ("small", "medium", "large")[int(np.searchsorted(bands, z))],
            }
            for m, r, z in zip(base.markets, base.regions, base.size, strict=True)
        },
    )


def week(k: int) -> date:
    """The first day of week ``k`` of the demo's series."""
    return FIRST_WEEK + timedelta(weeks=k)


def demo_tests() -> str:
    """The demo's ``markets.yml``: the packaging test and the staggered display roll-out."""
    cohorts = "\n".join(
        f"      {week(w).isoformat()}: [{', '.join(ms)}]" for w, ms in STAGGERED.items()
    )
    return f"""# Market-level tests of the demo company (tinylift markets analyze KEY)
# the series: markets.csv, loaded into the warehouse (tinylift ingest markets.csv --kind markets)
series: warehouse
tests:
  - key: pkg-eco-box
    name: Eco packaging box in eight European markets
    team: operations
    hypothesis: A smaller, recyclable box sells better on the shelf and is returned less.
    metric: sell_through
    guardrails:
      - {{metric: returns, lower_is_better: true, margin: 0.05}}
    value_per_unit: 38.0
    method: synthetic_control
    treated: [{", ".join(PACKAGING_MARKETS)}]
    start: {week(PACKAGING_START).isoformat()}
  - key: retail-accessory-display
    name: Accessory display, rolled out region by region
    team: sales
    hypothesis: A shelf display next to the hub lifts accessory sales, more as staff learn it.
    metric: accessory_units
    value_per_unit: 12.0
    adoption:
{cohorts}
"""
