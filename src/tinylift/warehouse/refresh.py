"""The refresh: every running experiment's sufficient statistics from one scan.

Plan (one heavy query, then light aggregations of its per-unit result):

1. *Entries*: each unit's first exposure per experiment (inside the
   experiment's dates) is its entry; units seen in more than one variant are
   excluded and counted.
2. *Per-unit measures*: events joined to entries on the unit, restricted to
   the widest window any metric needs, aggregated per (experiment, unit) with
   one conditional sum per distinct measure (event, value, filter, window),
   post-period and CUPED pre-period alike. Events are read once for all
   experiments.
3. *Sufficient statistics*: per (experiment, variant [, dimension | entry
   day]) the unit count, sums and cross-products of every metric's columns
   (see :class:`tinylift.stats.Moments`).

Metric definitions reach the engine only as Ibis literals and generated
column names (m0, m1 ...), never as SQL text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import combinations_with_replacement
from typing import Any, Final

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from tinylift.errors import ConfigError
from tinylift.metrics import Catalog, MeanMetric, Metric, ProportionMetric, RatioMetric, Source
from tinylift.metrics.model import QuantileMetric
from tinylift.stats.moments import Kind, Moments
from tinylift.stats.quantile import QuantileStats
from tinylift.warehouse.engine import Engine

__all__ = [
    "DIMENSIONS",
    "ExperimentStats",
    "ExperimentWindow",
    "Refresh",
    "compile_refresh",
    "refresh",
]

#: Quantile metrics: each arm's quantiles at q - delta and q + delta give the
#: density estimate behind the standard error (see tinylift.stats.quantile).
QUANTILE_DELTA: Final = 0.02
#: Exposure attributes a refresh can break results down by.
DIMENSIONS: Final = ("country", "platform")
_FAR_PAST: Final = datetime(1970, 1, 1, tzinfo=UTC)
_FAR_FUTURE: Final = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ExperimentWindow:
    """What to compute for one experiment: its variants (control first), metrics, dates."""

    key: str
    variants: tuple[str, ...]
    metrics: tuple[str, ...]
    start: datetime | None = None
    end: datetime | None = None  # data cutoff, exclusive


@dataclass(frozen=True)
class ExperimentStats:
    """One experiment's sufficient statistics after a refresh."""

    key: str
    variants: tuple[str, ...]
    units: dict[str, int]
    multi_variant_units: int
    unplanned_variant_units: int
    metrics: dict[str, Moments]
    breakdowns: dict[str, dict[str, dict[str, Moments]]] = field(default_factory=dict)
    quantiles: dict[str, QuantileStats] = field(default_factory=dict)
    daily: list[tuple[date, dict[str, Moments]]] = field(default_factory=list)


@dataclass(frozen=True)
class Refresh:
    """The result of a refresh: statistics per experiment, and the SQL that ran."""

    experiments: dict[str, ExperimentStats]
    sql: str


# -- planning -----------------------------------------------------------------

_MeasureKey = tuple[str, str, tuple[tuple[str, Any], ...], int, int]


class _Plan:
    """Distinct per-unit measures and, per metric, the columns of its Moments."""

    def __init__(self, catalog: Catalog, names: Sequence[str]) -> None:
        self.catalog = catalog
        self.measures: dict[_MeasureKey, str] = {}
        self.metrics: list[Metric] = [catalog.get(n) for n in dict.fromkeys(names)]
        self.columns: dict[str, list[tuple[str, str]]] = {}  # metric -> [(measure col, transform)]
        self.kinds: dict[str, Kind] = {}
        self.quantiles: dict[str, tuple[str, float]] = {}  # metric -> (measure, q)
        for m in self.metrics:
            if isinstance(m, QuantileMetric):
                w = m.window
                src = Source(event=m.event, value=m.value, filter=m.filter)
                self.quantiles[m.name] = (self._measure(src, w.start_days, w.end_days), m.quantile)
                continue
            self._add(m)
        self.metrics = [m for m in self.metrics if not isinstance(m, QuantileMetric)]

    def _measure(self, src: Source, lo: int, hi: int) -> str:
        key = (src.event, src.value, tuple(sorted(src.filter.items())), lo, hi)
        return self.measures.setdefault(key, f"m{len(self.measures)}")

    def _add(self, m: Metric) -> None:
        w = m.window
        pre = m.cuped.pre_days if m.cuped else None
        cols: list[tuple[str, str]] = []
        if isinstance(m, RatioMetric):
            num, den = self.catalog.source(m.numerator), self.catalog.source(m.denominator)  # type: ignore[arg-type]
            cols = [
                (self._measure(num, w.start_days, w.end_days), "raw"),
                (self._measure(den, w.start_days, w.end_days), "raw"),
            ]
            if pre:
                cols += [(self._measure(num, -pre, 0), "raw"), (self._measure(den, -pre, 0), "raw")]
            self.kinds[m.name] = "ratio"
        else:
            assert isinstance(m, (MeanMetric, ProportionMetric))
            value = m.value if isinstance(m, MeanMetric) else "count"
            src = Source(event=m.event, value=value, filter=m.filter)
            transform = "any" if isinstance(m, ProportionMetric) else "cap"
            cols = [(self._measure(src, w.start_days, w.end_days), transform)]
            if pre:
                cols.append((self._measure(src, -pre, 0), transform))
            self.kinds[m.name] = "proportion" if isinstance(m, ProportionMetric) else "mean"
        self.columns[m.name] = cols

    @property
    def span(self) -> tuple[int, int]:
        """Widest window, in days relative to entry, that any measure reads."""
        los = [k[3] for k in self.measures] or [0]
        his = [k[4] for k in self.measures] or [1]
        return min(min(los), 0), max(his)


# -- query building -------------------------------------------------------------


def _by_experiment(
    key: ir.StringValue, values: dict[str, datetime], like: ir.TimestampValue
) -> ir.TimestampValue:
    """A per-experiment constant as a CASE expression (deterministic SQL, no temp tables).

    Literals take the type of ``like``: zone-aware (DuckDB) or zone-less in
    UTC (Spark, whose session time zone is UTC).
    """
    typ = like.type()

    def lit(v: datetime) -> ir.TimestampValue:
        if typ.timezone is None:
            v = v.astimezone(UTC).replace(tzinfo=None)
        return ibis.literal(v, type=typ)

    return ibis.cases(
        *[(key == ibis.literal(k), lit(v)) for k, v in values.items()],
        else_=lit(_FAR_FUTURE),
    )


#: Per dialect: an aggregate giving the value at the row with the smallest key
#: (Ibis's generic argmin is an ordered FIRST(), which sorts every group).
_ARG_MIN: Final = {"duckdb": "arg_min", "pyspark": "min_by"}


def _first_by(dialect: str, column: ir.Column, order: ir.Column) -> ir.Scalar:
    """The value of ``column`` at the smallest ``order`` in each group."""
    name = _ARG_MIN.get(dialect)
    if name is None:
        return column.argmin(order)

    @ibis.udf.agg.builtin(name=name)  # type: ignore[untyped-decorator]
    def first_by(value: str, key: datetime) -> str:  # type: ignore[empty-body]
        """The engine's arg-min aggregate."""

    return first_by(column, order)


def _entries(exposures: ir.Table, windows: Sequence[ExperimentWindow], dialect: str) -> ir.Table:
    x = exposures.filter(exposures.experiment_key.isin([w.key for w in windows]))
    x = x.mutate(
        exp_start=_by_experiment(
            x.experiment_key, {w.key: w.start or _FAR_PAST for w in windows}, x.timestamp
        ),
        exp_end=_by_experiment(
            x.experiment_key, {w.key: w.end or _FAR_FUTURE for w in windows}, x.timestamp
        ),
    )
    x = x.filter((x.timestamp >= x.exp_start) & (x.timestamp < x.exp_end))
    entries = x.group_by(["experiment_key", "unit_id"]).aggregate(
        entry_ts=x.timestamp.min(),
        # seen in more than one variant (cheaper than counting distinct variants)
        mixed=x.variant_key.min() != x.variant_key.max(),
        variant_key=x.variant_key.min(),
        country=_first_by(dialect, x.country, x.timestamp),
        platform=_first_by(dialect, x.platform, x.timestamp),
        exp_end=x.exp_end.max(),
    )
    # A small integer per experiment: the per-unit aggregation groups by
    # (xi, unit_id), much cheaper than by two strings.
    xi = ibis.cases(
        *[(entries.experiment_key == ibis.literal(w.key), i) for i, w in enumerate(windows)],
        else_=-1,
    )
    return entries.mutate(xi=xi.cast("int16"))


#: Per dialect: the function that extracts a JSON property as text, and its path style.
_JSON_TEXT: Final = {
    "duckdb": ("json_extract_string", "$.{}"),
    "pyspark": ("get_json_object", "$.{}"),
    "bigquery": ("json_extract_scalar", "$.{}"),
    "trino": ("json_extract_scalar", "$.{}"),
    "snowflake": ("json_extract_path_text", "{}"),
    "postgres": ("json_extract_path_text", "{}"),
}


def _json_text(dialect: str, column: ir.StringValue, key: str) -> ir.StringValue:
    """A JSON property as text, with the engine's own function (keys are validated)."""
    name, path = _JSON_TEXT[dialect]

    @ibis.udf.scalar.builtin(name=name)  # type: ignore[untyped-decorator]
    def extract(doc: str, path: str) -> str:  # type: ignore[empty-body]
        """The engine's JSON extraction function."""

    return extract(column, ibis.literal(path.format(key)))


def _filter_condition(
    t: ir.Table, flt: tuple[tuple[str, Any], ...], dialect: str
) -> ir.BooleanValue:
    cond: ir.BooleanValue = ibis.literal(True)
    for key, value in flt:
        text = _json_text(dialect, t.properties, key)
        if isinstance(value, bool):
            cond &= text == ibis.literal("true" if value else "false")
        elif isinstance(value, (int, float)):
            cond &= text.try_cast("float64") == ibis.literal(float(value))
        else:
            cond &= text == ibis.literal(str(value))
    return cond


def _per_unit(events: ir.Table, valid: ir.Table, plan: _Plan, dialect: str) -> ir.Table:
    lo, hi = plan.span
    names = sorted({k[0] for k in plan.measures})
    filters = sorted({k[2] for k in plan.measures if k[2]})
    ev = events.filter(events.event_name.isin(names))
    # Everything a measure asks of an event is worked out once per event, not
    # once per (event, entry) pair: the pairs carry a small code, the value and
    # one flag per filter instead of the name and the properties text.
    ev = ev.select(
        "unit_id",
        "timestamp",
        code=ibis.cases(
            *[(ev.event_name == ibis.literal(n), i) for i, n in enumerate(names)], else_=-1
        ).cast("int8"),
        amount=ev.value.fill_null(0.0),
        **{
            f"f{i}": _filter_condition(ev, flt, dialect).fill_null(False)
            for i, flt in enumerate(filters)
        },
    )
    # Window boundaries once per entry, not once per (event, entry) pair: the
    # pair conditions become plain timestamp comparisons.
    days = sorted({lo, hi} | {k[3] for k in plan.measures} | {k[4] for k in plan.measures})
    v = valid.select("xi", "unit_id", "entry_ts", "exp_end")
    v = v.mutate(**{_bound(d): v.entry_ts + ibis.interval(days=d) for d in days})
    v = v.mutate(span_end=ibis.least(v[_bound(hi)], v.exp_end))
    j = ev.join(
        v,
        [ev.unit_id == v.unit_id, ev.timestamp >= v[_bound(lo)], ev.timestamp < v.span_end],
    )
    aggs = {}
    for (event, value, flt, m_lo, m_hi), col in plan.measures.items():
        cond = j.code == ibis.literal(names.index(event), type="int8")
        if m_lo != lo:  # the join already keeps events from the span's start on
            cond &= j.timestamp >= j[_bound(m_lo)]
        if m_hi != hi:  # ... and before its end
            cond &= j.timestamp < j[_bound(m_hi)]
        if flt:
            cond &= j[f"f{filters.index(flt)}"]
        amount = j.amount if value == "value" else ibis.literal(1.0)
        aggs[col] = ibis.ifelse(cond, amount, 0.0).sum()
    return j.group_by([j.xi, j.unit_id]).aggregate(**aggs)


def _bound(days: int) -> str:
    """Column holding entry time + ``days`` (b_m28 is 28 days before entry)."""
    return f"b_{'m' if days < 0 else 'p'}{abs(days)}"


def _units(entries: ir.Table, per_unit: ir.Table, plan: _Plan) -> ir.Table:
    """One row per entry, multi-variant ones included (flagged, excluded from results)."""
    u = entries.left_join(
        per_unit, [entries.xi == per_unit.xi, entries.unit_id == per_unit.unit_id]
    )
    return u.select(
        entries.experiment_key,
        entries.unit_id,
        entries.variant_key,
        entries.country,
        entries.platform,
        entries.mixed,
        entry_day=entries.entry_ts.date(),
        **{c: u[c].fill_null(0.0) for c in plan.measures.values()},
    )


def _metric_columns(
    units: ir.Table, caps: ir.Table | None, plan: _Plan
) -> tuple[ir.Table, dict[str, list[str]]]:
    """Add each metric's Moments columns (capped, binarised) to the unit table."""
    out: dict[str, ir.Value] = {}
    names: dict[str, list[str]] = {}
    for j, m in enumerate(plan.metrics):
        cols = []
        cap = getattr(m, "cap", None)
        for a, (measure, transform) in enumerate(plan.columns[m.name]):
            x: ir.NumericValue = units[measure]
            if transform == "any":
                x = ibis.ifelse(x > 0, 1.0, 0.0)
            elif transform == "cap" and cap is not None:
                limit = ibis.literal(cap.absolute) if cap.absolute else caps[f"cap_{j}"]  # type: ignore[index]
                x = ibis.least(x, limit)
            name = f"x{j}_{a}"
            out[name] = x
            cols.append(name)
        names[m.name] = cols
    return units.mutate(**out), names


def _caps(units: ir.Table, plan: _Plan) -> ir.Table | None:
    aggs = {}
    for j, m in enumerate(plan.metrics):
        cap = getattr(m, "cap", None)
        if cap is not None and cap.percentile is not None:
            col = units[plan.columns[m.name][0][0]]
            # the percentile of units that have the metric at all
            aggs[f"cap_{j}"] = col.quantile(cap.percentile, where=(col > 0) & ~units.mixed)
    if not aggs:
        return None
    return units.group_by("experiment_key").aggregate(**aggs)


def _moment_aggs(t: ir.Table, names: dict[str, list[str]]) -> dict[str, ir.Value]:
    aggs: dict[str, ir.Value] = {"n": t.count()}
    for j, cols in enumerate(names.values()):
        for a, c in enumerate(cols):
            aggs[f"s{j}_{a}"] = t[c].sum()
        for (a, ca), (b, cb) in combinations_with_replacement(list(enumerate(cols)), 2):
            aggs[f"q{j}_{a}_{b}"] = (t[ca] * t[cb]).sum()
    return aggs


def _by(keys: list[str]) -> list[str]:
    """Group keys, plus the multi-variant flag: those units form groups of their own
    (counted, then dropped), cheaper than filtering every aggregate."""
    return [*keys, "mixed"]


def _units_of(
    exposures: ir.Table,
    events: ir.Table,
    plan: _Plan,
    experiments: Sequence[ExperimentWindow],
    dialect: str,
    part: int = 0,
    parts: int = 1,
) -> ir.Table:
    """The per-unit table of one share of the units (all of them when ``parts`` is 1).

    Shares split units by a hash of their id, so each share's hash tables fit
    in memory; every unit falls in exactly one share.
    """
    if parts > 1:
        exposures = exposures.filter(_unit_part(exposures.unit_id, parts) == part)
        events = events.filter(_unit_part(events.unit_id, parts) == part)
    entries = _entries(exposures, experiments, dialect)
    valid = entries.filter(~entries.mixed)
    return _units(entries, _per_unit(events, valid, plan, dialect), plan)


def _finish(units: ir.Table, plan: _Plan) -> tuple[ir.Table, dict[str, list[str]]]:
    """Every metric's columns (capped, binarised) on the per-unit table, and their names."""
    caps = _caps(units, plan)
    if caps is not None:
        units = units.left_join(caps, "experiment_key")
    return _metric_columns(units, caps, plan)


def _unit_part(unit: ir.StringValue, parts: int) -> ir.IntegerValue:
    """Which of ``parts`` shares a unit falls in (by the engine's hash of its id)."""
    h = unit.hash()
    return ((h % parts) + parts) % parts


def compile_refresh(
    catalog: Catalog, experiments: Sequence[ExperimentWindow], *, dialect: str
) -> str:
    """The refresh's main query as SQL for any dialect Ibis supports (no connection)."""
    from tinylift.warehouse.schema import EVENTS_SCHEMA, EXPOSURES_SCHEMA

    plan = _Plan(catalog, [n for w in experiments for n in w.metrics])
    ex = ibis.table(ibis.Schema.from_pyarrow(EXPOSURES_SCHEMA), name="exposures")
    ev = ibis.table(ibis.Schema.from_pyarrow(EVENTS_SCHEMA), name="events")
    table, names = _finish(_units_of(ex, ev, plan, experiments, dialect), plan)
    query = table.group_by(_by(["experiment_key", "variant_key"])).aggregate(
        **_moment_aggs(table, names)
    )
    return str(ibis.to_sql(query, dialect=dialect))


# -- running --------------------------------------------------------------------


def _moments(
    rows: list[dict[str, Any]], variants: tuple[str, ...], plan: _Plan
) -> dict[str, Moments]:
    by_variant = {r["variant_key"]: r for r in rows}
    out = {}
    for j, m in enumerate(plan.metrics):
        p = len(plan.columns[m.name])
        n = np.zeros((1, len(variants)))
        s = np.zeros((1, len(variants), p))
        ss = np.zeros((1, len(variants), p, p))
        for v, name in enumerate(variants):
            r = by_variant.get(name)
            if r is None:
                continue
            n[0, v] = r["n"]
            for a in range(p):
                s[0, v, a] = r[f"s{j}_{a}"] or 0.0
            for a, b in combinations_with_replacement(range(p), 2):
                ss[0, v, a, b] = ss[0, v, b, a] = r[f"q{j}_{a}_{b}"] or 0.0
        out[m.name] = Moments.from_sums(
            plan.kinds[m.name], n, s, ss, metrics=[m.name], variants=variants
        )
    return out


def _add(tables: list[pa.Table], keys: list[str]) -> pa.Table:
    """Per-share sums added up: the shares hold disjoint units, so sums add."""
    if len(tables) == 1:
        return tables[0]
    both = pa.concat_tables(tables)
    values = [c for c in both.column_names if c not in keys]
    added = both.group_by(keys).aggregate([(c, "sum") for c in values])
    return added.rename_columns([c.removesuffix("_sum") for c in added.column_names])


def _group_rows(
    table: pa.Table, keys: list[str], *, mixed: bool = False
) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Rows by key: those of valid units, or (``mixed``) of units seen in several variants."""
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in table.to_pylist():
        if row["mixed"] == mixed:
            grouped.setdefault(tuple(row[k] for k in keys), []).append(row)
    return grouped


def refresh(
    engine: Engine,
    catalog: Catalog,
    experiments: Sequence[ExperimentWindow],
    *,
    dimensions: Sequence[str] = (),
    by_day: bool = False,
    exposures: str = "exposures",
    events: str = "events",
) -> Refresh:
    """Sufficient statistics for every experiment and metric, from one scan of events."""
    if not experiments:
        raise ConfigError("nothing to refresh: no experiments given", parameter="experiments")
    for d in dimensions:
        if d not in DIMENSIONS:
            raise ConfigError(
                f"unknown dimension {d!r}; choose from {', '.join(DIMENSIONS)}",
                parameter="dimensions",
            )
    plan = _Plan(catalog, [n for w in experiments for n in w.metrics])
    ex, ev = engine.table(exposures), engine.table(events)
    parts = engine.unit_parts(ex.filter(ex.experiment_key.isin([w.key for w in experiments])))

    def units(part: int) -> ir.Table:
        return _units_of(ex, ev, plan, experiments, engine.dialect, part, parts)

    queries: dict[str, list[str]] = {"overall": ["experiment_key", "variant_key"]}
    for d in dimensions:
        queries[d] = ["experiment_key", d, "variant_key"]
    if by_day:
        queries["daily"] = ["experiment_key", "entry_day", "variant_key"]
    # the per-unit table is materialised when several queries read it
    reuse = len(queries) > 1 or bool(plan.quantiles)
    needs_all_units = bool(plan.quantiles) or any(
        getattr(getattr(m, "cap", None), "percentile", None) is not None for m in plan.metrics
    )
    if needs_all_units and parts > 1:
        # percentiles need every unit at once: gather the shares in one table
        shares = [engine.cache_parts([units(i) for i in range(parts)])]
    else:
        shares = [engine.cache(units(i)) if reuse else units(i) for i in range(parts)]
    results: dict[str, list[pa.Table]] = {name: [] for name in queries}
    quantile_rows: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    sql = ""
    for share in shares:
        table, names = _finish(share, plan)
        for name, keys in queries.items():
            query = table.group_by(_by(keys)).aggregate(**_moment_aggs(table, names))
            sql = sql or engine.compile(query)
            results[name].append(engine.execute(query))
        if plan.quantiles:
            qaggs: dict[str, ir.Value] = {"n": table.count()}
            for j, (measure, q) in enumerate(plan.quantiles.values()):
                for tag, level in (
                    ("lo", q - QUANTILE_DELTA),
                    ("mid", q),
                    ("hi", q + QUANTILE_DELTA),
                ):
                    qaggs[f"{tag}{j}"] = table[measure].quantile(level)
            qagg = table.group_by(_by(["experiment_key", "variant_key"])).aggregate(**qaggs)
            quantile_rows = _group_rows(engine.execute(qagg), ["experiment_key"])
        engine.release(share)
    merged = {name: _add(tables, _by(queries[name])) for name, tables in results.items()}
    multi = {
        key[0]: sum(r["n"] for r in rows)
        for key, rows in _group_rows(merged["overall"], ["experiment_key"], mixed=True).items()
    }
    result = _group_rows(merged["overall"], ["experiment_key"])
    breakdowns = {d: {"rows": _group_rows(merged[d], ["experiment_key", d])} for d in dimensions}
    daily_rows = _group_rows(merged["daily"], ["experiment_key", "entry_day"]) if by_day else {}

    stats: dict[str, ExperimentStats] = {}
    for w in experiments:
        rows = result.get((w.key,), [])
        sub = _SubPlan(plan, w.metrics)
        planned = [r for r in rows if r["variant_key"] in w.variants]
        stats[w.key] = ExperimentStats(
            key=w.key,
            variants=w.variants,
            units={
                v: next((int(r["n"]) for r in planned if r["variant_key"] == v), 0)
                for v in w.variants
            },
            multi_variant_units=int(multi.get(w.key, 0)),
            unplanned_variant_units=int(sum(r["n"] for r in rows if r not in planned)),
            metrics=sub.pick(_moments(planned, w.variants, plan)),
            breakdowns={
                d: {
                    str(key[1]): sub.pick(_moments(grp, w.variants, plan))
                    for key, grp in breakdowns[d]["rows"].items()
                    if key[0] == w.key
                }
                for d in dimensions
            },
            daily=_cumulative(w, daily_rows, plan, sub) if by_day else [],
            quantiles=_quantiles(w, quantile_rows.get((w.key,), []), plan),
        )
    return Refresh(stats, sql)


def _quantiles(
    w: ExperimentWindow, rows: list[dict[str, Any]], plan: _Plan
) -> dict[str, QuantileStats]:
    by_variant = {r["variant_key"]: r for r in rows}
    out = {}
    for j, (name, (_, q)) in enumerate(plan.quantiles.items()):
        if name not in w.metrics or any(v not in by_variant for v in w.variants):
            continue
        pick = [by_variant[v] for v in w.variants]
        out[name] = QuantileStats.from_arrays(
            name,
            w.variants,
            q=q,
            delta=QUANTILE_DELTA,
            n=[r["n"] for r in pick],
            lower=[r[f"lo{j}"] for r in pick],
            value=[r[f"mid{j}"] for r in pick],
            upper=[r[f"hi{j}"] for r in pick],
        )
    return out


class _SubPlan:
    def __init__(self, plan: _Plan, names: Sequence[str]) -> None:
        moment_names = {m.name for m in plan.metrics}
        self.names = [n for n in dict.fromkeys(names) if n in moment_names]

    def pick(self, moments: dict[str, Moments]) -> dict[str, Moments]:
        return {n: moments[n] for n in self.names}


def _cumulative(
    w: ExperimentWindow,
    rows: dict[tuple[Any, ...], list[dict[str, Any]]],
    plan: _Plan,
    sub: _SubPlan,
) -> list[tuple[date, dict[str, Moments]]]:
    days = sorted(key[1] for key in rows if key[0] == w.key)
    out: list[tuple[date, dict[str, Moments]]] = []
    running: dict[str, Moments] | None = None
    for day in days:
        today = sub.pick(_moments(rows[(w.key, day)], w.variants, plan))
        running = today if running is None else {k: running[k] + today[k] for k in today}
        out.append((day, running))
    return out
