"""Building the refresh's queries with Ibis: entries, per-unit measures, moments.

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

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from itertools import combinations_with_replacement
from typing import Final

import ibis
import ibis.expr.types as ir

from tinylift.metrics import Catalog
from tinylift.warehouse.contract import ExperimentWindow, dimension_column
from tinylift.warehouse.dialects import (
    FAR_FUTURE,
    FAR_PAST,
    by_experiment,
    filter_condition,
    first_by,
    json_text,
    last_by,
    unit_part,
)
from tinylift.warehouse.plan import Plan

__all__ = [
    "STATE_COLUMNS",
    "by",
    "compile_refresh",
    "finish",
    "moment_aggs",
    "state_delta",
    "state_entries",
    "state_entry_rows",
    "state_rows",
    "state_rows_between",
    "units_from_state",
    "units_of",
]


def _entries(
    exposures: ir.Table,
    windows: Sequence[ExperimentWindow],
    dialect: str,
    attributes: Sequence[str] = (),
    units: ir.Table | None = None,
) -> ir.Table:
    return with_dimensions(
        _entry_rows(exposures, windows, dialect, bool(attributes)), dialect, attributes, units
    )


def _entry_rows(
    exposures: ir.Table,
    windows: Sequence[ExperimentWindow],
    dialect: str,
    attributes: bool,
    *,
    state: bool = False,
) -> ir.Table:
    """Each (experiment, unit)'s entry: first exposure, variants seen, first country ..."""
    x = exposures.filter(exposures.experiment_key.isin([w.key for w in windows]))
    x = x.mutate(
        exp_start=by_experiment(
            x.experiment_key, {w.key: w.start or FAR_PAST for w in windows}, x.timestamp
        ),
        # enrolment ends at the stop; events count to the data cutoff (exp_end)
        enrol_end=by_experiment(
            x.experiment_key,
            {w.key: w.enrol_end or w.end or FAR_FUTURE for w in windows},
            x.timestamp,
        ),
        exp_end=by_experiment(
            x.experiment_key, {w.key: w.end or FAR_FUTURE for w in windows}, x.timestamp
        ),
    )
    x = x.filter((x.timestamp >= x.exp_start) & (x.timestamp < x.enrol_end))
    entries = x.group_by(["experiment_key", "unit_id"]).aggregate(
        entry_ts=x.timestamp.min(),
        # seen in more than one variant (cheaper than counting distinct variants)
        mixed=x.variant_key.min() != x.variant_key.max(),
        variant_key=x.variant_key.min(),
        **({"variant_max": x.variant_key.max()} if state else {}),
        country=first_by(dialect, x.country, x.timestamp),
        platform=first_by(dialect, x.platform, x.timestamp),
        exp_end=x.exp_end.max(),
        # attributes as at the unit's first exposure (only when a breakdown needs them)
        **({"attributes": first_by(dialect, x.attributes, x.timestamp)} if attributes else {}),
    )
    return entries.mutate(xi=experiment_index(entries.experiment_key, windows))


def experiment_index(key: ir.StringValue, windows: Sequence[ExperimentWindow]) -> ir.IntegerValue:
    """A small integer per experiment: the per-unit aggregation groups by
    (xi, unit_id), much cheaper than by two strings."""
    return ibis.cases(
        *[(key == ibis.literal(w.key), i) for i, w in enumerate(windows)], else_=-1
    ).cast("int16")


def with_dimensions(
    entries: ir.Table, dialect: str, attributes: Sequence[str], units: ir.Table | None
) -> ir.Table:
    """Entries with a column per attribute a breakdown needs (``dim_<name>``)."""
    if not attributes:
        return entries.drop("attributes") if "attributes" in entries.columns else entries
    if units is None:
        dims = {a: json_text(dialect, entries.attributes, a) for a in attributes}
        return entries.mutate(**{dimension_column(a): v for a, v in dims.items()}).drop(
            "attributes"
        )
    entries = _with_unit_attributes(entries, units, dialect)
    # the exposure's own attribute first, else what was known of the unit at entry
    dims = {
        a: json_text(dialect, entries.attributes, a).coalesce(
            json_text(dialect, entries.unit_attributes, a)
        )
        for a in attributes
    }
    return entries.mutate(**{dimension_column(a): v for a, v in dims.items()}).drop(
        "attributes", "unit_attributes"
    )


def _with_unit_attributes(entries: ir.Table, units: ir.Table, dialect: str) -> ir.Table:
    """Each entry with the unit's attributes as known at its entry (the latest row at
    or before it; rows without ``as_of`` hold always)."""
    u = units.select(
        ua_unit=units.unit_id,
        ua_as_of=units.as_of.fill_null(FAR_PAST),
        ua_attributes=units.attributes,
    )
    e = entries.select(ua_xi=entries.xi, ua_entry_unit=entries.unit_id, ua_entry=entries.entry_ts)
    j = e.join(u, [e.ua_entry_unit == u.ua_unit, u.ua_as_of <= e.ua_entry])
    known = j.group_by(["ua_xi", "ua_entry_unit"]).aggregate(
        unit_attributes=last_by(dialect, j.ua_attributes, j.ua_as_of)
    )
    out = entries.left_join(
        known, [entries.xi == known.ua_xi, entries.unit_id == known.ua_entry_unit]
    )
    return out.select(*entries.columns, known.unit_attributes)


def _per_unit(
    events: ir.Table, valid: ir.Table, plan: Plan, dialect: str, *, fresh_only: bool = False
) -> ir.Table:
    """Every measure per entry. With ``fresh_only`` only the events an entry has not
    counted yet: loaded after its ``since_seq`` or timed at or after its ``since_ts``."""
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
        **({"load_seq": ev.load_seq} if fresh_only else {}),
        **{
            f"f{i}": filter_condition(ev, flt, dialect).fill_null(False)
            for i, flt in enumerate(filters)
        },
    )
    # Window boundaries once per entry, not once per (event, entry) pair: the
    # pair conditions become plain timestamp comparisons.
    days = sorted({lo, hi} | {k[3] for k in plan.measures} | {k[4] for k in plan.measures})
    since = ["since_seq", "since_ts"] if fresh_only else []
    v = valid.select("xi", "unit_id", "entry_ts", "exp_end", *since)
    v = v.mutate(**{_bound(d): v.entry_ts + ibis.interval(days=d) for d in days})
    v = v.mutate(span_end=ibis.least(v[_bound(hi)], v.exp_end))
    on = [ev.unit_id == v.unit_id, ev.timestamp >= v[_bound(lo)], ev.timestamp < v.span_end]
    if fresh_only:
        on.append((ev.load_seq > v.since_seq) | (ev.timestamp >= v.since_ts))
    j = ev.join(v, on)
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


def complete(days: int) -> str:
    """Column flagging units whose window of ``days`` after entry ended before the cutoff."""
    return f"done_{days}"


def _units(
    entries: ir.Table,
    per_unit: ir.Table | None,
    plan: Plan,
    exclude: bool,
    attributes: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> ir.Table:
    """One row per entry, multi-variant ones included (flagged, excluded from results).

    With ``exclude``, a flag per window length says whose window is complete:
    the others are left out of the metrics of that window (in progress).
    ``per_unit`` None: the entries carry their measures already.
    """
    u = (
        entries
        if per_unit is None
        else entries.left_join(
            per_unit, [entries.xi == per_unit.xi, entries.unit_id == per_unit.unit_id]
        )
    )
    done = {
        complete(d): entries.entry_ts + ibis.interval(days=d) <= entries.exp_end
        for d in plan.ends
        if exclude
    }
    return u.select(
        entries.experiment_key,
        entries.unit_id,
        entries.variant_key,
        entries.country,
        entries.platform,
        entries.mixed,
        *[entries[dimension_column(a)] for a in attributes],
        *[entries[c] for c in extra],
        entry_day=entries.entry_ts.date(),
        **done,
        **{c: u[c].fill_null(0.0) for c in plan.measures.values()},
    )


def done_flag(units: ir.Table, plan: Plan, metric: str) -> ir.BooleanValue | None:
    """Whether a unit's window for ``metric`` is complete (None: every unit counts)."""
    name = complete(plan.window_ends[metric])
    return units[name] if name in units.columns else None


def _metric_columns(
    units: ir.Table, caps: ir.Table | None, plan: Plan
) -> tuple[ir.Table, dict[str, list[str]]]:
    """Add each metric's Moments columns (capped, binarised) to the unit table."""
    out: dict[str, ir.Value] = {}
    names: dict[str, list[str]] = {}
    for j, m in enumerate(plan.metrics):
        cols = []
        cap = getattr(m, "cap", None)
        done = done_flag(units, plan, m.name)
        for a, (measure, transform) in enumerate(plan.columns[m.name]):
            x: ir.NumericValue = units[measure]
            if transform == "any":
                x = ibis.ifelse(x > 0, 1.0, 0.0)
            elif transform == "cap" and cap is not None:
                limit = ibis.literal(cap.absolute) if cap.absolute else caps[f"cap_{j}"]  # type: ignore[index]
                x = ibis.least(x, limit)
            if done is not None:  # a unit in progress adds nothing to this metric
                x = ibis.ifelse(done, x, 0.0)
            name = f"x{j}_{a}"
            out[name] = x
            cols.append(name)
        # the units this metric counts
        out[f"w{j}"] = ibis.literal(1.0) if done is None else ibis.ifelse(done, 1.0, 0.0)
        names[m.name] = cols
    return units.mutate(**out), names


def _caps(units: ir.Table, plan: Plan) -> ir.Table | None:
    aggs = {}
    for j, m in enumerate(plan.metrics):
        cap = getattr(m, "cap", None)
        if cap is not None and cap.percentile is not None:
            col = units[plan.columns[m.name][0][0]]
            # the percentile of units that have the metric at all (complete windows)
            where = (col > 0) & ~units.mixed
            done = done_flag(units, plan, m.name)
            if done is not None:
                where &= done
            aggs[f"cap_{j}"] = col.quantile(cap.percentile, where=where)
    if not aggs:
        return None
    return units.group_by("experiment_key").aggregate(**aggs)


def moment_aggs(t: ir.Table, names: dict[str, list[str]]) -> dict[str, ir.Value]:
    aggs: dict[str, ir.Value] = {"n": t.count()}
    for j, cols in enumerate(names.values()):
        aggs[f"n{j}"] = t[f"w{j}"].sum()
        for a, c in enumerate(cols):
            aggs[f"s{j}_{a}"] = t[c].sum()
        for (a, ca), (b, cb) in combinations_with_replacement(list(enumerate(cols)), 2):
            aggs[f"q{j}_{a}_{b}"] = (t[ca] * t[cb]).sum()
    return aggs


def by(keys: list[str]) -> list[str]:
    """Group keys, plus the multi-variant flag: those units form groups of their own
    (counted, then dropped), cheaper than filtering every aggregate."""
    return [*keys, "mixed"]


def units_of(
    exposures: ir.Table,
    events: ir.Table,
    plan: Plan,
    experiments: Sequence[ExperimentWindow],
    dialect: str,
    part: int = 0,
    parts: int = 1,
    *,
    exclude_in_progress: bool = True,
    attributes: Sequence[str] = (),
    units: ir.Table | None = None,
) -> ir.Table:
    """The per-unit table of one share of the units (all of them when ``parts`` is 1).

    Shares split units by a hash of their id, so each share's hash tables fit
    in memory; every unit falls in exactly one share.
    """
    if parts > 1:
        exposures = exposures.filter(unit_part(exposures.unit_id, parts) == part)
        events = events.filter(unit_part(events.unit_id, parts) == part)
    if parts > 1 and units is not None:
        units = units.filter(unit_part(units.unit_id, parts) == part)
    entries = _entries(exposures, experiments, dialect, attributes, units)
    valid = entries.filter(~entries.mixed)
    per_unit = _per_unit(events, valid, plan, dialect)
    return _units(entries, per_unit, plan, exclude_in_progress, attributes)


def finish(units: ir.Table, plan: Plan) -> tuple[ir.Table, dict[str, list[str]]]:
    """Every metric's columns (capped, binarised) on the per-unit table, and their names."""
    caps = _caps(units, plan)
    if caps is not None:
        units = units.left_join(caps, "experiment_key")
    return _metric_columns(units, caps, plan)


#: The entry columns of the incremental refresh's per-unit state (then one per measure).
STATE_COLUMNS: Final = (
    "experiment_key",
    "unit_id",
    "entry_ts",
    "variant_key",
    "variant_max",
    "country",
    "platform",
    "attributes",
)


def state_rows(
    exposures: ir.Table,
    events: ir.Table,
    plan: Plan,
    windows: Sequence[ExperimentWindow],
    dialect: str,
    names: dict[str, str],
    part: int = 0,
    parts: int = 1,
) -> ir.Table:
    """Rows of the incremental state: each entry (mixed ones too) with every measure,
    under its state column name (``names``: plan column -> state column)."""
    if parts > 1:
        exposures = exposures.filter(unit_part(exposures.unit_id, parts) == part)
        events = events.filter(unit_part(events.unit_id, parts) == part)
    entries = _entry_rows(exposures, windows, dialect, attributes=True, state=True)
    return _state_select(entries, _per_unit(events, entries, plan, dialect), plan, names)


def state_entry_rows(
    exposures: ir.Table,
    windows: Sequence[ExperimentWindow],
    dialect: str,
    part: int = 0,
    parts: int = 1,
) -> ir.Table:
    """Entries as :func:`state_rows_between` measures them (one share of the units)."""
    if parts > 1:
        exposures = exposures.filter(unit_part(exposures.unit_id, parts) == part)
    return _entry_rows(exposures, windows, dialect, attributes=True, state=True)


def state_rows_between(
    entries: ir.Table,
    events: ir.Table,
    plan: Plan,
    dialect: str,
    names: dict[str, str],
    since: datetime,
    until: datetime,
) -> ir.Table:
    """The state rows of the entries (:func:`state_entry_rows`) that entered in
    [since, until), from the events that can reach them alone.

    An entry at e counts events in [e + span[0], e + span[1]) days, so these
    entries need events in [since + span[0], until + span[1]) days only: where
    rows lie roughly in time order (daily loads) the engine skips the rest, and
    each slice's join meets a unit's events of those weeks alone, not of the year.
    """
    lo, hi = plan.span
    v = entries.filter(
        (entries.entry_ts >= ibis.literal(since)) & (entries.entry_ts < ibis.literal(until))
    )
    ev = events.filter(
        (events.timestamp >= ibis.literal(since + timedelta(days=lo)))
        & (events.timestamp < ibis.literal(until + timedelta(days=hi)))
    )
    return _state_select(v, _per_unit(ev, v, plan, dialect), plan, names)


def _state_select(
    entries: ir.Table, per_unit: ir.Table, plan: Plan, names: dict[str, str]
) -> ir.Table:
    u = entries.left_join(
        per_unit, [entries.xi == per_unit.xi, entries.unit_id == per_unit.unit_id]
    )
    return u.select(
        *[entries[c] for c in STATE_COLUMNS],
        **{names[c]: u[c].fill_null(0.0) for c in plan.measures.values()},
    )


def state_entries(
    exposures: ir.Table, windows: Sequence[ExperimentWindow], dialect: str
) -> ir.Table:
    """Entries as the state keeps them, of the exposures given (no measures)."""
    return _entry_rows(exposures, windows, dialect, attributes=True, state=True).select(
        *STATE_COLUMNS
    )


def state_delta(
    events: ir.Table, entries: ir.Table, plan: Plan, dialect: str, names: dict[str, str]
) -> ir.Table:
    """What events not yet counted add to each entry's measures (``entries``: state rows
    with ``xi``, ``exp_end``, ``since_seq`` and ``since_ts``)."""
    d = _per_unit(events, entries, plan, dialect, fresh_only=True)
    return d.select("xi", "unit_id", **{names[c]: d[c] for c in plan.measures.values()})


def units_from_state(
    state: ir.Table,
    plan: Plan,
    windows: Sequence[ExperimentWindow],
    dialect: str,
    names: dict[str, str],
    *,
    exclude_in_progress: bool = True,
    attributes: Sequence[str] = (),
    units: ir.Table | None = None,
    since: Mapping[str, datetime] | None = None,
    until: Mapping[str, datetime] | None = None,
    split: Mapping[str, datetime] | None = None,
) -> ir.Table:
    """The per-unit table of :func:`units_of`, read from the incremental state: every
    entry, or (``since``, ``until``: per experiment) those that entered in between;
    ``split`` adds a flag ``before_split`` (entered before the experiment's time)."""
    s = state.filter(state.experiment_key.isin([w.key for w in windows]))
    # the earliest bound alone lets the engine skip old rows (the state is ordered by
    # experiment and entry); the per-experiment bound then picks exactly
    if since:
        s = s.filter(s.entry_ts >= ibis.literal(min(since.values())))
        s = s.filter(s.entry_ts >= by_experiment(s.experiment_key, dict(since), s.entry_ts))
    if until:
        s = s.filter(s.entry_ts < by_experiment(s.experiment_key, dict(until), s.entry_ts))
    entries = s.mutate(
        mixed=s.variant_key != s.variant_max,
        exp_end=by_experiment(
            s.experiment_key, {w.key: w.end or FAR_FUTURE for w in windows}, s.entry_ts
        ),
        # the key of attributes known apart (no other use: a large CASE to compile)
        **({"xi": experiment_index(s.experiment_key, windows)} if units is not None else {}),
        **(
            {"before_split": s.entry_ts < by_experiment(s.experiment_key, dict(split), s.entry_ts)}
            if split
            else {}
        ),
    )
    entries = with_dimensions(entries, dialect, attributes, units)
    # measures of units seen in several variants count for nothing (as in units_of)
    entries = entries.mutate(
        **{c: ibis.ifelse(entries.mixed, 0.0, entries[names[c]]) for c in plan.measures.values()}
    )
    extra = ["before_split"] if split else []
    return _units(entries, None, plan, exclude_in_progress, attributes, extra)


def compile_refresh(
    catalog: Catalog, experiments: Sequence[ExperimentWindow], *, dialect: str
) -> str:
    """The refresh's main query as SQL for any dialect Ibis supports (no connection)."""
    from tinylift.warehouse.schema import EVENTS_SCHEMA, EXPOSURES_SCHEMA

    plan = Plan(catalog, [n for w in experiments for n in w.metrics])
    ex = ibis.table(ibis.Schema.from_pyarrow(EXPOSURES_SCHEMA), name="exposures")
    ev = ibis.table(ibis.Schema.from_pyarrow(EVENTS_SCHEMA), name="events")
    table, names = finish(units_of(ex, ev, plan, experiments, dialect), plan)
    query = table.group_by(by(["experiment_key", "variant_key"])).aggregate(
        **moment_aggs(table, names)
    )
    return str(ibis.to_sql(query, dialect=dialect))
