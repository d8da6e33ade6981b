"""Generate the simulated company chunk by chunk, with its ground truth.

Memory stays bounded: units are drawn in blocks of ``CHUNK_UNITS`` and each
block yields its exposures and events as Arrow tables. Every random draw is
fixed by the seed and the block number, and assignment draws by the unit
alone, so the data are the same however they are consumed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from tinylift.demo import behaviour as bh
from tinylift.demo.company import (
    CHANNELS,
    HOLDOUT,
    WINDOW_DAYS,
    ExperimentSpec,
    InteractionSpec,
    experiments,
    interactions,
)
from tinylift.demo.truth import TruthAccumulator, expected_outcomes
from tinylift.errors import ConfigError
from tinylift.warehouse.schema import EVENTS_SCHEMA, EXPOSURES_SCHEMA

__all__ = ["CHUNK_UNITS", "START", "Chunk", "Simulation", "layer_ranges"]

#: Day 0 of the simulated year.
START: Final = datetime(2026, 1, 1, tzinfo=UTC)
_START_US: Final = int(START.timestamp() * 1_000_000)
CHUNK_UNITS: Final = 50_000
#: Share of enrolled units that also log an exposure to another variant
#: (shared devices): the warehouse must exclude and count them.
MULTI_VARIANT_SHARE: Final = 0.001
_NEVER: Final = np.iinfo(np.int64).max


def _factor(it: InteractionSpec) -> NDArray[np.float64]:
    """An interaction's multipliers, one per channel (a column, to broadcast over visits)."""
    return np.array([[1.0 + it.effect(c)] for c in CHANNELS])


def layer_ranges(specs: tuple[ExperimentSpec, ...]) -> dict[str, tuple[float, float]]:
    """Give each experiment a slice of its layer, disjoint from overlapping ones.

    Experiments overlap when their variant periods (enrollment plus the
    metric window) intersect; such experiments in one layer never share units.
    """
    placed: dict[str, tuple[float, float]] = {}
    for spec in specs:
        busy = sorted(
            placed[o.key]
            for o in specs
            if o.key in placed
            and o.layer == spec.layer
            and o.start_day < spec.ship_day
            and spec.start_day < o.ship_day
        )
        for lo in [0.0] + [hi for _, hi in busy]:
            hi = lo + spec.traffic
            if hi <= 1.0 + 1e-12 and all(hi <= b_lo or lo >= b_hi for b_lo, b_hi in busy):
                placed[spec.key] = (lo, min(hi, 1.0))
                break
        else:
            raise ConfigError(f"no room in layer {spec.layer!r}", parameter=spec.key)
    return placed


@dataclass(frozen=True, slots=True)
class Chunk:
    """One block of units: their exposures and events, in the data model."""

    first_unit: int
    units: int
    exposures: pa.Table
    events: pa.Table
    #: One row per unit: id, arrival (its first visit), country, platform.
    units_table: pa.Table


@dataclass(slots=True)
class _Enrollment:
    """Who entered one experiment in a block, when, and in which arm."""

    entry_us: NDArray[np.int64]  # per unit; _NEVER when not enrolled
    arm: NDArray[np.int8]  # per unit; -1 when not enrolled
    logged: NDArray[np.bool_]  # exposure reached the data (SRM bug drops some)
    multi: NDArray[np.bool_]  # also logged in another arm


@dataclass
class Simulation:
    """The simulated company for a number of units, days and a seed.

    Iterate :meth:`chunks` once to produce the data; :attr:`truth` then holds
    the true effects of every experiment on every demo metric.
    """

    users: int
    days: int = 365
    seed: int = 0
    truth: TruthAccumulator = field(init=False)
    specs: tuple[ExperimentSpec, ...] = field(init=False)

    def __post_init__(self) -> None:
        for name in ("users", "days", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"must be an integer, got {value!r}", parameter=name)
        if self.users < 1:
            raise ConfigError(f"must be at least 1, got {self.users}", parameter="users")
        if not 1 <= self.days <= 3650:
            raise ConfigError(f"must be between 1 and 3650, got {self.days}", parameter="days")
        if self.seed < 0:
            raise ConfigError(f"must be 0 or more, got {self.seed}", parameter="seed")
        self.specs = tuple(s for s in experiments() if s.start_day < self.days)
        self.ranges = layer_ranges(self.specs)
        keys = {s.key for s in self.specs}
        self.interactions = tuple(i for i in interactions() if {i.a, i.b} <= keys)
        self.truth = TruthAccumulator(self.specs)

    @property
    def n_chunks(self) -> int:
        """How many blocks :meth:`chunks` yields."""
        return -(-self.users // CHUNK_UNITS)

    def chunks(self) -> Iterator[Chunk]:
        """Yield the data block by block, accumulating the truth."""
        for block in range(self.n_chunks):
            first = block * CHUNK_UNITS
            yield self._chunk(block, first, min(CHUNK_UNITS, self.users - first))

    # -- one block ---------------------------------------------------------

    def _chunk(self, block: int, first: int, count: int) -> Chunk:
        rng = np.random.default_rng([self.seed, block])
        units = bh.draw_units(rng, first, count, self.days)
        visits = bh.draw_visits(rng, units)
        holdout = bh.unit_uniform(units.index, f"holdout:{HOLDOUT.key}", self.seed) < HOLDOUT.share
        enrolled = {s.key: self._enroll(rng, s, units, visits) for s in self.specs}
        general = self._multipliers(visits, enrolled)
        # Holdout units get nothing: no experiment, no shipped change.
        actual = np.where(holdout[visits.unit][None, :], 1.0, general)

        data_end = self.days * bh.US_PER_DAY
        for spec in self.specs:
            self._add_truth(spec, units, visits, actual, enrolled, holdout, data_end)
        self._add_holdout_truth(units, visits, general, holdout)

        exposures = self._exposures(units, visits, enrolled, holdout)
        events = self._events(rng, block, units, visits, actual, data_end)
        units_table = pa.table(
            {
                "unit_id": _unit_ids(units.index),
                "arrival": _timestamps(units.arrival_us),
                "country": _labels(units.country, bh.COUNTRIES),
                "platform": _labels(units.platform, bh.PLATFORMS),
                "holdout": holdout,
            }
        )
        return Chunk(first, count, exposures, events, units_table)

    def _enroll(
        self, rng: np.random.Generator, spec: ExperimentSpec, units: bh.Units, visits: bh.Visits
    ) -> _Enrollment:
        n = len(units.index)
        lo, hi = self.ranges[spec.key]
        layer_u = bh.unit_uniform(units.index, f"layer:{spec.layer}", self.seed)
        eligible = (layer_u >= lo) & (layer_u < hi)
        if spec.countries is not None:
            codes = [bh.COUNTRIES.index(c) for c in spec.countries]
            eligible &= np.isin(units.country, codes)
        if spec.platforms is not None:
            codes = [bh.PLATFORMS.index(p) for p in spec.platforms]
            eligible &= np.isin(units.platform, codes)
        in_window = (
            eligible[visits.unit]
            & (visits.time_us >= spec.start_day * bh.US_PER_DAY)
            & (visits.time_us < spec.end_day * bh.US_PER_DAY)
        )
        who, first = np.unique(visits.unit[in_window], return_index=True)
        entry = np.full(n, _NEVER, dtype=np.int64)
        entry[who] = visits.time_us[in_window][first]

        weights = np.array([v.weight for v in spec.variants])
        arm_u = bh.unit_uniform(units.index, f"arm:{spec.key}", self.seed)
        arm = np.searchsorted(np.cumsum(weights) / weights.sum(), arm_u, side="right")
        arm = np.where(entry < _NEVER, arm, -1)

        logged = arm >= 0
        if spec.srm_loss and spec.srm_platform is not None:
            bug = (arm > 0) & (units.platform == bh.PLATFORMS.index(spec.srm_platform))
            logged &= ~(bug & (rng.random(n) < spec.srm_loss))
        multi = logged & (rng.random(n) < MULTI_VARIANT_SHARE)
        return _Enrollment(entry, arm.astype(np.int8), logged, multi)

    def _arm_factor(
        self, spec: ExperimentSpec, arm: NDArray[np.int8], dt_us: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        """Multipliers (channel x visit) of an experiment's arms at a time since entry."""
        eff = np.array([[1.0 + v.effect(c) for v in spec.variants] for c in CHANNELS])
        out = eff[:, arm]
        if spec.novelty:
            decay = spec.novelty * np.exp(-dt_us / (spec.novelty_tau_days * bh.US_PER_DAY))
            for c in spec.novelty_channels:
                row = CHANNELS.index(c)
                out[row] += np.where(arm > 0, decay, 0.0)
        return out

    def _multipliers(
        self, visits: bh.Visits, enrolled: dict[str, _Enrollment]
    ) -> NDArray[np.float64]:
        """Channel x visit multipliers for a unit outside the holdout."""
        mult = np.ones((len(CHANNELS), len(visits.unit)))
        t = visits.time_us
        for spec in self.specs:
            e = enrolled[spec.key]
            entry = e.entry_us[visits.unit]
            on = (t >= entry) & (t < spec.ship_day * bh.US_PER_DAY)
            if on.any():
                mult[:, on] *= self._arm_factor(spec, e.arm[visits.unit[on]], t[on] - entry[on])
            winner = spec.ship_variant
            if winner is not None and spec.ship_day < self.days:
                shipped = t >= spec.ship_day * bh.US_PER_DAY
                mult[:, shipped] *= np.array([[1.0 + winner.effect(c)] for c in CHANNELS])
        for it in self.interactions:
            both = self._treated(it.a, visits, enrolled) & self._treated(it.b, visits, enrolled)
            mult[:, both] *= _factor(it)
        return mult

    def _treated(
        self, key: str, visits: bh.Visits, enrolled: dict[str, _Enrollment]
    ) -> NDArray[np.bool_]:
        """Visits made while in a treatment arm of one experiment (before it ships)."""
        spec = next(s for s in self.specs if s.key == key)
        e = enrolled[key]
        t, entry = visits.time_us, e.entry_us[visits.unit]
        on = (t >= entry) & (t < spec.ship_day * bh.US_PER_DAY)
        return on & (e.arm[visits.unit] > 0)

    # -- truth -------------------------------------------------------------

    def _add_truth(
        self,
        spec: ExperimentSpec,
        units: bh.Units,
        visits: bh.Visits,
        actual: NDArray[np.float64],
        enrolled: dict[str, _Enrollment],
        holdout: NDArray[np.bool_],
        data_end: int,
    ) -> None:
        e = enrolled[spec.key]
        analysed = e.logged & ~e.multi & ~holdout
        if not analysed.any():
            return
        entry = e.entry_us[visits.unit]
        window_end = np.minimum(entry + WINDOW_DAYS * bh.US_PER_DAY, data_end)
        sel = analysed[visits.unit] & (visits.time_us >= entry) & (visits.time_us < window_end)
        t, dt = visits.time_us[sel], visits.time_us[sel] - entry[sel]
        own = self._arm_factor(spec, e.arm[visits.unit[sel]], dt)
        # interactions: a partner's treatment at these visits changes what each arm does
        partners = [
            (it, self._treated(it.b if it.a == spec.key else it.a, visits, enrolled)[sel])
            for it in self.interactions
            if spec.key in (it.a, it.b)
        ]
        arm = e.arm[visits.unit[sel]]
        for it, partner in partners:
            own = own * np.where(partner & (arm > 0), _factor(it), 1.0)
        base = actual[:, sel] / own
        for k in range(len(spec.variants)):
            arm_k = np.full(len(t), k, dtype=np.int8)
            would = self._arm_factor(spec, arm_k, dt)
            for it, partner in partners:
                would = would * np.where(partner & (k > 0), _factor(it), 1.0)
            outcomes = expected_outcomes(
                units,
                visits.unit[sel],
                t,
                base * would,
                window_end[sel],
                count_units=analysed,
            )
            self.truth.add(spec.key, spec.variants[k].key, outcomes)

    def _add_holdout_truth(
        self,
        units: bh.Units,
        visits: bh.Visits,
        general: NDArray[np.float64],
        holdout: NDArray[np.bool_],
    ) -> None:
        data_end = self.days * bh.US_PER_DAY
        entry = self._holdout_entry(units, visits)
        entered = entry < _NEVER
        sel = entered[visits.unit] & (visits.time_us >= entry[visits.unit])
        t = visits.time_us[sel]
        end = np.full(len(t), data_end, dtype=np.int64)
        for arm, mult in (("holdout", np.ones_like(general[:, sel])), ("general", general[:, sel])):
            outcomes = expected_outcomes(units, visits.unit[sel], t, mult, end, count_units=entered)
            self.truth.add(HOLDOUT.key, arm, outcomes)

    def _holdout_entry(self, units: bh.Units, visits: bh.Visits) -> NDArray[np.int64]:
        after = visits.time_us >= HOLDOUT.start_day * bh.US_PER_DAY
        who, first = np.unique(visits.unit[after], return_index=True)
        entry = np.full(len(units.index), _NEVER, dtype=np.int64)
        entry[who] = visits.time_us[after][first]
        return entry

    # -- data --------------------------------------------------------------

    def _exposures(
        self,
        units: bh.Units,
        visits: bh.Visits,
        enrolled: dict[str, _Enrollment],
        holdout: NDArray[np.bool_],
    ) -> pa.Table:
        parts: list[tuple[str, list[str], NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]]
        parts = []
        for spec in self.specs:
            e = enrolled[spec.key]
            names = [v.key for v in spec.variants]
            pos = np.flatnonzero(e.logged & ~holdout)
            parts.append((spec.key, names, pos, e.entry_us[pos], e.arm[pos]))
            dup = np.flatnonzero(e.multi & ~holdout)
            if len(dup):
                other = ((e.arm[dup] + 1) % len(names)).astype(np.int8)
                later = e.entry_us[dup] + bh.US_PER_DAY // 2
                parts.append((spec.key, names, dup, later, other))
        entry = self._holdout_entry(units, visits)
        pos = np.flatnonzero(entry < _NEVER)
        parts.append(
            (HOLDOUT.key, ["general", "holdout"], pos, entry[pos], holdout[pos].astype(np.int8))
        )
        tables = []
        for key, names, pos, when, arm in parts:
            variant = pa.DictionaryArray.from_arrays(pa.array(arm, pa.int8()), names)
            tables.append(
                pa.table(
                    {
                        "experiment_key": pa.array(
                            np.full(len(pos), key, dtype=object), pa.string()
                        ),
                        "variant_key": variant.cast(pa.string()),
                        "unit_id": _unit_ids(units.index[pos]),
                        "timestamp": _timestamps(when),
                        "country": _labels(units.country[pos], bh.COUNTRIES),
                        "platform": _labels(units.platform[pos], bh.PLATFORMS),
                        "attributes": pa.nulls(len(pos), pa.string()),
                    }
                )
            )
        return pa.concat_tables(tables).cast(EXPOSURES_SCHEMA)

    def _events(
        self,
        rng: np.random.Generator,
        block: int,
        units: bh.Units,
        visits: bh.Visits,
        mult: NDArray[np.float64],
        data_end: int,
    ) -> pa.Table:
        u, t = visits.unit, visits.time_us
        m = dict(zip(CHANNELS, mult, strict=True))
        pages = 1 + rng.poisson(bh.EXTRA_PAGES_PER_VISIT * m["pages"])
        click = rng.random(len(u)) < np.minimum(units.click[u] * m["clicks"], bh.MAX_PROB)
        buy = rng.random(len(u)) < np.minimum(units.buy[u] * m["conversion"], bh.MAX_PROB)
        contact = rng.random(len(u)) < np.minimum(units.support[u] * m["support"], bh.MAX_PROB)

        noise = rng.lognormal(-0.125, 0.5, size=len(u))  # mean 1
        value = np.round(units.order_value[u] * m["order_value"] * noise, 2)
        returned = buy & (
            rng.random(len(u)) < np.minimum(units.return_prob[u] * m["returns"], bh.MAX_PROB)
        )
        delay = (rng.exponential(bh.MEAN_RETURN_DELAY_DAYS, len(u)) * bh.US_PER_DAY).astype(
            np.int64
        )
        returned &= t + delay < data_end
        category = rng.integers(0, len(bh.CATEGORIES), len(u))

        kinds = [
            ("pageview", np.ones(len(u), bool), t, pages.astype(np.float64), None),
            ("click", click, t, np.ones(len(u)), None),
            ("purchase", buy, t, value, category),
            ("support_contact", contact, t, np.ones(len(u)), None),
            ("return", returned, t + delay, value, category),
        ]
        unit_pos = np.concatenate([u[mask] for _, mask, *_ in kinds])
        n = len(unit_pos)
        props = np.array([f'{{"category": "{c}"}}' for c in bh.CATEGORIES], dtype=object)
        table = pa.table(
            {
                "event_id": _event_ids(self.seed, block, n),
                "unit_id": _unit_ids(units.index[unit_pos]),
                "timestamp": _timestamps(np.concatenate([w[mask] for _, mask, w, _, _ in kinds])),
                "event_name": pa.array(
                    np.concatenate(
                        [np.full(int(mask.sum()), k, dtype=object) for k, mask, *_ in kinds]
                    ),
                    pa.string(),
                ),
                "value": np.concatenate([v[mask] for _, mask, _, v, _ in kinds]),
                "properties": pa.array(
                    np.concatenate(
                        [
                            props[c[mask]] if c is not None else np.full(int(mask.sum()), None)
                            for _, mask, _, _, c in kinds
                        ]
                    ),
                    pa.string(),
                ),
            }
        )
        return table.cast(EVENTS_SCHEMA)


def _timestamps(us: NDArray[np.int64]) -> pa.Array:
    return pa.array(us + _START_US, pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def _unit_ids(index: NDArray[np.int64]) -> pa.Array:
    return pa.array(
        np.char.add("u", np.char.zfill(index.astype(str), 8)).astype(object), pa.string()
    )


def _labels(codes: NDArray[np.int8], names: tuple[str, ...]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), list(names)).cast(pa.string())


def _event_ids(seed: int, block: int, n: int) -> pa.Array:
    ids = np.char.add(f"ev{seed}-{block}-", np.arange(n).astype(str))
    return pa.array(ids.astype(object), pa.string())
