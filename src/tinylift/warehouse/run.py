"""The refresh: every experiment's sufficient statistics from one scan of the events.

This module runs the queries of :mod:`tinylift.warehouse.query` on an engine
(in shares of units on big data) and assembles their rows into
:class:`~tinylift.warehouse.contract.ExperimentStats`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from datetime import date
from itertools import combinations_with_replacement
from typing import Any, Final, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from tinylift.errors import ConfigError, WarehouseError
from tinylift.metrics import Catalog
from tinylift.stats.moments import Moments
from tinylift.stats.quantile import QuantileStats
from tinylift.warehouse.contract import (
    DIMENSIONS,
    QUANTILE_DELTA,
    ExperimentStats,
    ExperimentWindow,
    Refresh,
    StateReport,
    dimension_column,
)
from tinylift.warehouse.dialects import FAR_FUTURE, FAR_PAST
from tinylift.warehouse.engine import DuckDBEngine, Engine
from tinylift.warehouse.pairs import KEYS as PAIR_KEYS
from tinylift.warehouse.pairs import pair_query, pair_stats
from tinylift.warehouse.plan import Plan
from tinylift.warehouse.query import (
    by,
    done_flag,
    finish,
    moment_aggs,
    units_from_state,
    units_of,
)

__all__ = ["refresh"]

_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _moments(
    rows: list[dict[str, Any]], variants: tuple[str, ...], plan: Plan
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
            n[0, v] = r[f"n{j}"] or 0.0  # the units whose window is complete
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
    unit_attributes: str = "unit_attributes",
    in_progress: Literal["exclude", "include"] = "exclude",
    pairs: Sequence[tuple[str, str]] = (),
    pair_metrics: Sequence[str] = (),
    incremental: bool = False,
    full: bool = False,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> Refresh:
    """Sufficient statistics for every experiment and metric, from one scan of events.

    A unit whose metric window has not ended at the data cutoff is *in
    progress*: by default it is left out of that metric (GrowthBook's "exclude
    in-progress conversions"), so a window never counts partly; the number
    left out is in :attr:`ExperimentStats.in_progress`. ``include`` counts
    whatever part of the window has been seen.

    ``pairs`` of experiments (``a``, ``b``) also get their shared units' cells,
    with ``pair_metrics`` measured in ``a``'s windows (:mod:`.pairs`), from the
    same per-unit table.

    ``incremental`` keeps every entry's measures in the warehouse and folds in
    only rows loaded since the last refresh (:mod:`.state`; ``full`` rebuilds
    that state); the statistics are those of a full refresh of the same data.
    """
    if in_progress not in ("exclude", "include"):
        raise ConfigError("choose exclude or include", parameter="in_progress")
    if not experiments:
        raise ConfigError("nothing to refresh: no experiments given", parameter="experiments")
    for d in dimensions:
        if not _NAME.fullmatch(d):
            raise ConfigError(
                f"{d!r} is not a dimension name (letters, digits and _; country, platform, "
                "or a key of the exposures' attributes)",
                parameter="dimensions",
            )
    attributes = [d for d in dict.fromkeys(dimensions) if d not in DIMENSIONS]
    # attributes of units loaded apart from their exposures (tinylift ingest --kind units)
    known_units = _optional_table(engine, unit_attributes) if attributes else None
    plan = Plan(catalog, [n for w in experiments for n in w.metrics])
    ex, ev = engine.table(exposures), engine.table(events)
    parts = engine.unit_parts(ex.filter(ex.experiment_key.isin([w.key for w in experiments])))

    def units(part: int) -> ir.Table:
        return units_of(
            ex,
            ev,
            plan,
            experiments,
            engine.dialect,
            part,
            parts,
            exclude_in_progress=in_progress == "exclude",
            attributes=attributes,
            units=known_units,
        )

    queries: dict[str, list[str]] = {"overall": ["experiment_key", "variant_key"]}
    for d in dimensions:
        queries[d] = ["experiment_key", dimension_column(d), "variant_key"]
    if by_day:
        queries["daily"] = ["experiment_key", "entry_day", "variant_key"]
    # the per-unit table is materialised when several queries read it
    reuse = len(queries) > 1 or bool(plan.quantiles) or bool(pairs)
    needs_all_units = bool(plan.quantiles) or any(
        getattr(getattr(m, "cap", None), "percentile", None) is not None for m in plan.metrics
    )
    report = None
    if incremental:
        from tinylift.warehouse.state import update_state
        from tinylift.warehouse.state_files import update_file_state

        firsts = {a for a, _ in pairs}
        needs = {
            w.key: [*w.metrics, *(pair_metrics if w.key in firsts else ())] for w in experiments
        }
        # the embedded warehouse updates its state in place; Spark writes Parquet versions
        update = update_state if isinstance(engine, DuckDBEngine) else update_file_state
        report = update(
            engine,
            plan,
            experiments,
            needs,
            full=full,
            exposures=exposures,
            events=events,
            on_progress=on_progress,
        )
    results: dict[str, list[pa.Table]] = {name: [] for name in queries}
    full_queries = queries
    sql = ""
    if report is not None:
        from tinylift.warehouse.state import STATE, measure_columns

        def view(**bounds: Any) -> ir.Table:
            return units_from_state(
                engine.table(STATE),
                plan,
                experiments,
                engine.dialect,
                measure_columns(plan),
                exclude_in_progress=in_progress == "exclude",
                attributes=attributes,
                units=known_units,
                **bounds,
            )

        capped = any(getattr(getattr(m, "cap", None), "percentile", None) for m in plan.metrics)
        if isinstance(engine, DuckDBEngine) and not capped:
            # the sums of entries whose windows have all ended are kept (see frozen.py)
            sql, kept = _frozen_split(
                engine, plan, experiments, queries, in_progress, report, view, results
            )
            report = dataclasses.replace(report, kept=kept)
            full_queries = {"daily": queries["daily"]} if by_day else {}
        if full_queries or plan.quantiles or pairs:
            reuse = len(full_queries) > 1 or bool(plan.quantiles) or bool(pairs)
            shares = [engine.cache(view()) if reuse else view()]
        else:
            shares = []
    elif needs_all_units and parts > 1:
        # percentiles need every unit at once: gather the shares in one table
        shares = [engine.cache_parts([units(i) for i in range(parts)])]
    else:
        shares = [engine.cache(units(i)) if reuse else units(i) for i in range(parts)]
    quantile_rows: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    pair_tables: list[pa.Table] = []
    for share in shares:
        table, names = finish(share, plan)
        for name, keys in full_queries.items():
            query = table.group_by(by(keys)).aggregate(**moment_aggs(table, names))
            sql = sql or engine.compile(query)
            results[name].append(engine.execute(query))
        if pairs:
            pair_tables.append(engine.execute(pair_query(table, share, plan, pairs, pair_metrics)))
        if plan.quantiles:
            qaggs: dict[str, ir.Value] = {"n": table.count()}
            for j, (qname, (measure, q)) in enumerate(plan.quantiles.items()):
                done = done_flag(table, plan, qname)  # complete windows only
                qaggs[f"qn{j}"] = table.count() if done is None else ibis.ifelse(done, 1, 0).sum()
                for tag, level in (
                    ("lo", q - QUANTILE_DELTA),
                    ("mid", q),
                    ("hi", q + QUANTILE_DELTA),
                ):
                    qaggs[f"{tag}{j}"] = table[measure].quantile(level, where=done)
            qagg = table.group_by(by(["experiment_key", "variant_key"])).aggregate(**qaggs)
            quantile_rows = _group_rows(engine.execute(qagg), ["experiment_key"])
        engine.release(share)
    merged = {name: _add(tables, by(queries[name])) for name, tables in results.items()}
    multi = {
        key[0]: sum(r["n"] for r in rows)
        for key, rows in _group_rows(merged["overall"], ["experiment_key"], mixed=True).items()
    }
    result = _group_rows(merged["overall"], ["experiment_key"])
    breakdowns = {
        d: {"rows": _group_rows(merged[d], ["experiment_key", dimension_column(d)])}
        for d in dimensions
    }
    daily_rows = _group_rows(merged["daily"], ["experiment_key", "entry_day"]) if by_day else {}

    stats: dict[str, ExperimentStats] = {}
    for w in experiments:
        rows = result.get((w.key,), [])
        sub = _SubPlan(plan, w.metrics)
        planned = [r for r in rows if r["variant_key"] in w.variants]
        moments = sub.pick(_moments(planned, w.variants, plan))
        quantiles = _quantiles(w, quantile_rows.get((w.key,), []), plan)
        entered = sum(int(r["n"]) for r in planned)
        stats[w.key] = ExperimentStats(
            key=w.key,
            variants=w.variants,
            units={
                v: next((int(r["n"]) for r in planned if r["variant_key"] == v), 0)
                for v in w.variants
            },
            multi_variant_units=int(multi.get(w.key, 0)),
            unplanned_variant_units=int(sum(r["n"] for r in rows if r not in planned)),
            metrics=moments,
            breakdowns={
                d: {
                    ("unknown" if key[1] is None else str(key[1])): sub.pick(
                        _moments(grp, w.variants, plan)
                    )
                    for key, grp in breakdowns[d]["rows"].items()
                    if key[0] == w.key
                }
                for d in dimensions
            },
            daily=_cumulative(w, daily_rows, plan, sub) if by_day else [],
            quantiles=quantiles,
            in_progress={
                **{name: entered - int(mo.n.sum()) for name, mo in moments.items()},
                **{name: entered - int(qs.n.sum()) for name, qs in quantiles.items()},
            },
        )
    shared = (
        pair_stats(_add(pair_tables, PAIR_KEYS).to_pylist(), experiments, plan, pairs, pair_metrics)
        if pairs
        else {}
    )
    return Refresh(stats, sql, shared, report)


def _frozen_split(
    engine: Engine,
    plan: Plan,
    experiments: Sequence[ExperimentWindow],
    queries: dict[str, list[str]],
    in_progress: str,
    report: StateReport,
    view: Callable[..., ir.Table],
    results: dict[str, list[pa.Table]],
) -> tuple[str, tuple[str, ...]]:
    """The breakdown queries from the state: kept sums of entries whose windows have all
    ended, plus the live aggregation of the rest; then the kept sums move up to this
    cutoff. Returns the live query's SQL and the experiments whose kept sums served."""
    from tinylift.warehouse.frozen import (
        frozen_boundary,
        frozen_signature,
        frozen_table,
        read_frozen,
        write_frozen,
    )

    split = {n: k for n, k in queries.items() if n != "daily"}
    signature = frozen_signature(plan, split, in_progress)
    keys = [w.key for w in experiments]
    kept, rows = read_frozen(engine, report, keys, signature)  # type: ignore[arg-type]
    start = {k: kept.get(k, FAR_PAST) for k in keys}
    boundary = {
        w.key: max(frozen_boundary(plan, w.end or FAR_FUTURE), start[w.key]) for w in experiments
    }
    # each entry is aggregated once, in one query: after the new boundary (live), or
    # between the old and the new one (moving into the kept sums)
    both, names = finish(view(since=start, split=boundary), plan)
    sql = ""
    new: dict[str, tuple[str | None, pa.Table]] = {}
    for name, keys_ in split.items():
        group = keys_[1] if len(keys_) == 3 else None
        query = both.group_by([*by(keys_), "before_split"]).aggregate(**moment_aggs(both, names))
        sql = sql or engine.compile(query)
        result = engine.execute(query)
        moving = result.column("before_split").to_numpy(zero_copy_only=False).astype(bool)
        now = result.filter(pa.array(~moving)).drop_columns(["before_split"])
        gained = result.filter(pa.array(moving)).drop_columns(["before_split"])
        old = frozen_table(rows, name, group, now.schema)
        kept_now = _add([old, gained.cast(now.schema)], by(keys_))
        kept_now = kept_now.select(now.schema.names).cast(now.schema)
        results[name] += [now, kept_now]
        new[name] = (group, kept_now)
    write_frozen(engine, new, boundary, report.seq, signature)  # type: ignore[arg-type]
    return sql, tuple(k for k in keys if k in kept)


def _optional_table(engine: Engine, name: str) -> ir.Table | None:
    """A table the engine may not have (None then)."""
    try:
        return engine.table(name)
    except WarehouseError:
        return None


def _quantiles(
    w: ExperimentWindow, rows: list[dict[str, Any]], plan: Plan
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
            n=[r[f"qn{j}"] for r in pick],
            lower=[r[f"lo{j}"] for r in pick],
            value=[r[f"mid{j}"] for r in pick],
            upper=[r[f"hi{j}"] for r in pick],
        )
    return out


class _SubPlan:
    def __init__(self, plan: Plan, names: Sequence[str]) -> None:
        moment_names = {m.name for m in plan.metrics}
        self.names = [n for n in dict.fromkeys(names) if n in moment_names]

    def pick(self, moments: dict[str, Moments]) -> dict[str, Moments]:
        return {n: moments[n] for n in self.names}


def _cumulative(
    w: ExperimentWindow,
    rows: dict[tuple[Any, ...], list[dict[str, Any]]],
    plan: Plan,
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
