"""How simulated customers behave, and deterministic per-unit randomness.

Per unit: an arrival time, a lifetime, a visit rate and propensities to buy,
click, contact support and return. Visits form a Poisson process from arrival
to churn; the first visit is the arrival. Every visit logs a ``pageview``
(value: pages viewed); it may add a ``click``, a ``purchase`` (value: order
value), a ``support_contact``; a purchase may be followed by a ``return``
(value: the refund) after an exponential delay.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

US_PER_DAY: Final = 86_400_000_000
#: Days of history before the simulated year: CUPED covariates come from here.
PRE_DAYS: Final = 90
MEAN_LIFETIME_DAYS: Final = 150.0
MEAN_VISITS_PER_DAY: Final = 0.08
EXTRA_PAGES_PER_VISIT: Final = 2.0
MEAN_RETURN_DELAY_DAYS: Final = 6.0
#: No per-visit probability exceeds this, so multipliers stay meaningful.
MAX_PROB: Final = 0.95

COUNTRIES: Final = ("US", "DE", "GB", "FR", "NL", "SE", "JP")
COUNTRY_WEIGHTS: Final = (0.45, 0.15, 0.15, 0.10, 0.05, 0.05, 0.05)
PLATFORMS: Final = ("web", "ios", "android")
PLATFORM_WEIGHTS: Final = (0.5, 0.3, 0.2)
CATEGORIES: Final = ("camera", "plug", "thermostat", "hub", "doorbell", "light")

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The splitmix64 finaliser: a fast, well-mixed 64-bit hash."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def unit_uniform(units: NDArray[np.int64], salt: str, seed: int) -> NDArray[np.float64]:
    """A uniform in [0, 1) per unit, fixed by (unit, salt, seed) alone.

    Independent of chunking, so a unit gets the same draw however the
    population is split; different salts give independent draws.

    >>> import numpy as np
    >>> u = unit_uniform(np.arange(3), "layer:pricing", 7)
    >>> bool(((u >= 0) & (u < 1)).all())
    True
    >>> u.tolist() == unit_uniform(np.arange(3), "layer:pricing", 7).tolist()
    True
    """
    key = np.uint64((zlib.crc32(salt.encode()) << 32) ^ (seed & 0xFFFFFFFF))
    h = _splitmix64(_splitmix64(units.astype(np.uint64) ^ key))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


@dataclass(frozen=True, slots=True)
class Units:
    """Latent traits of a block of units (one array entry per unit)."""

    index: NDArray[np.int64]
    arrival_us: NDArray[np.int64]
    churn_us: NDArray[np.int64]
    visit_rate: NDArray[np.float64]
    buy: NDArray[np.float64]
    order_value: NDArray[np.float64]
    return_prob: NDArray[np.float64]
    click: NDArray[np.float64]
    support: NDArray[np.float64]
    country: NDArray[np.int8]
    platform: NDArray[np.int8]


def draw_units(rng: np.random.Generator, first: int, count: int, days: int) -> Units:
    """Draw ``count`` units, numbered from ``first``, living within the data span."""
    span_start, span_end = -PRE_DAYS * US_PER_DAY, days * US_PER_DAY
    arrival = rng.integers(span_start, span_end, size=count, dtype=np.int64)
    lifetime = rng.exponential(MEAN_LIFETIME_DAYS, size=count) * US_PER_DAY
    churn = np.minimum(arrival + lifetime.astype(np.int64), span_end)
    return Units(
        index=np.arange(first, first + count, dtype=np.int64),
        arrival_us=arrival,
        churn_us=churn,
        visit_rate=rng.gamma(1.0, MEAN_VISITS_PER_DAY, size=count),
        buy=rng.beta(1.2, 20.0, size=count),
        order_value=rng.lognormal(np.log(80.0), 0.6, size=count),
        return_prob=rng.beta(1.0, 9.0, size=count),
        click=rng.beta(1.0, 4.0, size=count),
        support=rng.beta(0.5, 20.0, size=count),
        country=rng.choice(len(COUNTRIES), size=count, p=COUNTRY_WEIGHTS).astype(np.int8),
        platform=rng.choice(len(PLATFORMS), size=count, p=PLATFORM_WEIGHTS).astype(np.int8),
    )


@dataclass(frozen=True, slots=True)
class Visits:
    """Visits of a block of units, sorted by (unit position, time)."""

    unit: NDArray[np.int64]  # position of the unit within its block
    time_us: NDArray[np.int64]


def draw_visits(rng: np.random.Generator, units: Units) -> Visits:
    """A Poisson number of visits per unit, the first one at its arrival."""
    life_days = (units.churn_us - units.arrival_us) / US_PER_DAY
    n = 1 + rng.poisson(units.visit_rate * life_days)
    unit = np.repeat(np.arange(len(n), dtype=np.int64), n)
    offset = rng.random(len(unit))
    first = np.r_[0, np.cumsum(n)[:-1]]
    offset[first] = 0.0
    span = (units.churn_us - units.arrival_us)[unit]
    time = units.arrival_us[unit] + (offset * span).astype(np.int64)
    order = np.lexsort((time, unit))
    return Visits(unit=unit[order], time_us=time[order])
