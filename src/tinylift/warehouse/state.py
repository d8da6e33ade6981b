"""The incremental refresh's state: every entry's measures, kept in the warehouse.

A full refresh attributes every event to every entry of its unit, each day,
for data that has not changed. The state keeps, per (experiment, unit), the
entry (first exposure, variants seen, country, platform, attributes at entry)
and every measure the experiment's metrics use, with a watermark per
experiment: the last load folded in (``seq``), the data cutoff and the end of
enrolment it was computed to. Bringing it forward reads only

* exposures loaded after the watermark, or timed at or after the old end of
  enrolment (enrolment went on);
* events loaded after the watermark, or timed at or after the old cutoff.

A unit whose entry is new or moved earlier (a late exposure), or whose rows a
restated load replaced, is rebuilt from all of its rows; every other entry
adds what the new events contribute inside its windows. Late events (timed
before the watermark's cutoff but loaded after it) are folded in, since rows
are chosen by load, not by time; rows re-sent are dropped at ingestion (they
never reach the warehouse twice). The whole update is one transaction: a
process killed half-way leaves the previous state, and the next refresh
completes it.

What the state is keyed by decides what a change rebuilds: a measure (event,
value, filter, window) is a column named by a hash of its definition, so a
changed metric definition makes new columns and rebuilds the experiments that
use it, and no other; an experiment whose start moved, or whose enrolment
ended earlier than the state assumed, is rebuilt alone. A refresh with an
earlier cutoff than the state's (analysing the past) reads the raw data and
leaves the state as it is. Percentile caps and quantiles do not add: they are
computed afresh from the per-unit state on every refresh, never from events.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import ibis
import ibis.expr.types as ir

from tinylift.errors import WarehouseError
from tinylift.warehouse.contract import ExperimentWindow, StateReport
from tinylift.warehouse.dialects import FAR_FUTURE, FAR_PAST
from tinylift.warehouse.engine import DuckDBEngine, Engine
from tinylift.warehouse.plan import MeasureKey, Plan
from tinylift.warehouse.query import (
    STATE_COLUMNS,
    state_delta,
    state_entries,
    state_entry_rows,
    state_rows,
    state_rows_between,
)

__all__ = [
    "STATE",
    "asks_earlier",
    "augmented",
    "bounds",
    "classify",
    "measure_columns",
    "needed_columns",
    "state_report",
    "update_state",
]

#: The per-entry state, and one row per experiment with its watermark.
STATE: Final = "tl_units"
INDEX: Final = "tl_state"
#: Per data table, the latest timestamp among its rows of loads up to ``seq``.
LATEST: Final = "tl_latest"

_ENTRY_TYPES: Final = {
    "experiment_key": "VARCHAR",
    "unit_id": "VARCHAR",
    "entry_ts": "TIMESTAMPTZ",
    "variant_key": "VARCHAR",
    "variant_max": "VARCHAR",
    "country": "VARCHAR",
    "platform": "VARCHAR",
    "attributes": "VARCHAR",
}

Progress = Callable[[str, int, int], None]
#: one update of the state (or of its kept sums) at a time in this process
LOCK: Final = threading.Lock()


def measure_columns(plan: Plan) -> dict[str, str]:
    """Each plan column (m0, m1 ...) -> the state's column, named by its definition."""
    return {col: _column(key) for key, col in plan.measures.items()}


def _column(key: MeasureKey) -> str:
    text = json.dumps(key, sort_keys=True, default=str)
    return "s_" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


def augmented(plan: Plan, held: Sequence[Mapping[str, Any]]) -> Plan:
    """The plan with every measure the states hold besides its own: bringing a state
    forward keeps all of it current, whatever this refresh asks for."""
    out = copy.copy(plan)
    out.measures = dict(plan.measures)
    for measures in held:
        for key in measures.values():
            event, value, flt, lo, hi = key
            k = (event, value, tuple(tuple(p) for p in flt), int(lo), int(hi))
            out.measures.setdefault(k, f"m{len(out.measures)}")
    return out


def needed_columns(plan: Plan, metrics: Sequence[str]) -> set[str]:
    """The plan columns that ``metrics`` read (moments and quantiles)."""
    out: set[str] = set()
    for name in metrics:
        out.update(col for col, _ in plan.columns.get(name, []))
        if name in plan.quantiles:
            out.add(plan.quantiles[name][0])
    return out


def bounds(w: ExperimentWindow) -> tuple[datetime, datetime, datetime]:
    start = w.start or FAR_PAST
    end = w.end or FAR_FUTURE
    return start, w.enrol_end or end, end


def asks_earlier(
    states: Mapping[str, Mapping[str, Any]], windows: Sequence[ExperimentWindow], full: bool
) -> bool:
    """A window asks for an earlier cutoff than its state holds (analysing the past)."""
    return not full and any(
        w.key in states and bounds(w)[2] < states[w.key]["cutoff"] for w in windows
    )


def classify(
    states: Mapping[str, Mapping[str, Any]],
    windows: Sequence[ExperimentWindow],
    plan: Plan,
    needs: Mapping[str, Sequence[str]],
    names: Mapping[str, str],
    full: bool,
    seq: int,
) -> tuple[list[ExperimentWindow], list[ExperimentWindow], list[ExperimentWindow]]:
    """Which windows are rebuilt, brought forward, or current at load ``seq``.

    Rebuilt: asked (``full``), new, start moved, enrolment ended earlier than the
    state assumed, or a measure needed that the state does not hold.
    """
    rebuild, forward, current = [], [], []
    for w in windows:
        s = states.get(w.key)
        start, enrol, end = bounds(w)
        wanted = {names[c] for c in needed_columns(plan, needs.get(w.key, w.metrics))}
        if (
            full
            or s is None
            or s["start"] != start
            or enrol < s["enrol_end"]
            or not wanted <= set(s["measures"])
        ):
            rebuild.append(w)
        elif s["seq"] == seq and s["enrol_end"] == enrol and s["cutoff"] == end:
            current.append(w)
        else:
            forward.append(w)
    return rebuild, forward, current


def state_report(
    rebuild: Sequence[ExperimentWindow],
    forward: Sequence[ExperimentWindow],
    current: Sequence[ExperimentWindow],
    states: Mapping[str, Mapping[str, Any]],
    *,
    loads: int,
    touched: int,
    seq: int,
    changed_from: datetime,
) -> StateReport:
    """What one update did (``changed_from``: before which entry time nothing changed)."""
    return StateReport(
        rebuilt=tuple(w.key for w in rebuild),
        updated=tuple(w.key for w in forward),
        current=tuple(w.key for w in current),
        loads=loads if forward else 0,
        touched=touched,
        seq=seq,
        prior={w.key: states[w.key]["seq"] for w in [*forward, *current]},
        unchanged_before={
            **{w.key: changed_from for w in forward},
            **{w.key: FAR_FUTURE for w in current},
        },
    )


def update_state(
    engine: Engine,
    plan: Plan,
    windows: Sequence[ExperimentWindow],
    needs: Mapping[str, Sequence[str]],
    *,
    full: bool = False,
    exposures: str = "exposures",
    events: str = "events",
    on_progress: Progress | None = None,
) -> StateReport | None:
    """Bring the state of ``windows`` forward (rebuild it with ``full``), in one transaction.

    ``needs`` maps each experiment to the metrics read from its units (its own,
    and those an interaction scan measures in its windows). Returns None, and
    touches nothing, when a window asks for an earlier cutoff than its state
    holds (the caller reads the raw data then).
    """
    if not isinstance(engine, DuckDBEngine):
        raise WarehouseError(
            f"this state lives in the embedded warehouse; {engine.name} keeps its own "
            "(tinylift.warehouse.state_files)"
        )
    con = engine.raw
    names = measure_columns(plan)
    _ensure(con, exposures, events, sorted(set(names.values())))
    # one update at a time in this process (the owner serves several requests):
    # two at once would conflict on the same rows
    with LOCK:
        con.execute("BEGIN TRANSACTION")
        try:
            report = _update(
                engine, plan, windows, needs, names, full, exposures, events, on_progress
            )
        except BaseException:
            con.execute("ROLLBACK")
            raise
        if report is None:
            con.execute("ROLLBACK")
            return None
        con.execute("COMMIT")
    return report


def _update(
    engine: DuckDBEngine,
    plan: Plan,
    windows: Sequence[ExperimentWindow],
    needs: Mapping[str, Sequence[str]],
    names: dict[str, str],
    full: bool,
    exposures: str,
    events: str,
    on_progress: Progress | None,
) -> StateReport | None:
    con = engine.raw
    states = _states(con, [w.key for w in windows])
    if asks_earlier(states, windows, full):
        return None
    # inside the transaction: loads committed later are neither seen nor marked as folded
    seq1 = int(con.execute("SELECT coalesce(max(seq), 0) FROM loads").fetchone()[0])  # type: ignore[index]
    rebuild, forward, current = classify(states, windows, plan, needs, names, full, seq1)
    if on_progress:
        on_progress("experiments updated", 0, len(windows))
    touched = 0
    changed_from = FAR_FUTURE
    if rebuild:
        _rebuild(engine, plan, rebuild, names, exposures, events, on_progress)
    if forward:
        aug = augmented(plan, [states[w.key]["measures"] for w in forward])
        touched, changed_from = _forward(
            engine, aug, forward, states, measure_columns(aug), exposures, events, seq1
        )
    computed = {names[c]: list(key) for key, c in plan.measures.items()}
    _write_index(con, rebuild, forward, states, computed, seq1)
    for table in (exposures, events):
        _mark_latest(con, table, seq1)
    oldest = min((states[w.key]["seq"] for w in forward), default=seq1)
    loads = int(
        con.execute(
            "SELECT count(*) FROM loads WHERE seq > ? AND seq <= ?", [oldest, seq1]
        ).fetchone()[0]  # type: ignore[index]
    )
    if on_progress:
        if forward:
            on_progress("loads folded in", loads, loads)
        on_progress("experiments updated", len(rebuild) + len(forward), len(windows))
    return state_report(
        rebuild,
        forward,
        current,
        states,
        loads=loads,
        touched=touched,
        seq=seq1,
        changed_from=changed_from,
    )


def state_table(engine: DuckDBEngine) -> ir.Table:
    """The per-entry state as an Ibis table."""
    return engine.table(STATE)


def _ensure(con: Any, exposures: str, events: str, columns: list[str]) -> None:
    """The state's tables, the load columns of the data, and a column per measure."""
    have = {
        (t, c)
        for t, c in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_name IN (?, ?, ?)",
            [exposures, events, STATE],
        ).fetchall()
    }
    for table in (exposures, events):
        if (table, "load_seq") not in have:
            con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS load_seq BIGINT DEFAULT 0")
    con.execute("ALTER TABLE loads ADD COLUMN IF NOT EXISTS seq BIGINT")
    con.execute(
        "CREATE TABLE IF NOT EXISTS restated (kind VARCHAR, unit_id VARCHAR, load_seq BIGINT)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {LATEST} (tbl VARCHAR, seq BIGINT, max_ts TIMESTAMPTZ)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {INDEX} (experiment_key VARCHAR PRIMARY KEY, "
        "start TIMESTAMPTZ, enrol_end TIMESTAMPTZ, cutoff TIMESTAMPTZ, seq BIGINT, "
        "measures VARCHAR, updated_at TIMESTAMPTZ)"
    )
    cols = ", ".join(f"{c} {t}" for c, t in _ENTRY_TYPES.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {STATE} ({cols})")
    for c in columns:
        if (STATE, c) not in have:
            con.execute(f"ALTER TABLE {STATE} ADD COLUMN IF NOT EXISTS {c} DOUBLE")


def _states(con: Any, keys: list[str]) -> dict[str, dict[str, Any]]:
    rows = con.execute(
        f"SELECT experiment_key, start, enrol_end, cutoff, seq, measures FROM {INDEX} "
        "WHERE experiment_key IN (SELECT unnest(?::VARCHAR[]))",
        [keys],
    ).fetchall()
    return {
        r[0]: {
            "start": r[1],
            "enrol_end": r[2],
            "cutoff": r[3],
            "seq": int(r[4]),
            "measures": json.loads(r[5]),
        }
        for r in rows
    }


def _write_index(
    con: Any,
    rebuild: list[ExperimentWindow],
    forward: list[ExperimentWindow],
    states: dict[str, dict[str, Any]],
    computed: dict[str, list[Any]],
    seq: int,
) -> None:
    """Each experiment's watermark and the measures its state holds (column -> key)."""
    rows = []
    for w in [*rebuild, *forward]:
        start, enrol, end = bounds(w)
        keep = states[w.key]["measures"] if w in forward else computed
        rows.append([w.key, start, enrol, end, seq, json.dumps(keep)])
    if not rows:
        return
    con.execute(
        f"DELETE FROM {INDEX} WHERE experiment_key IN (SELECT unnest(?::VARCHAR[]))",
        [[r[0] for r in rows]],
    )
    _insert_rows(con, INDEX, rows, ["VARCHAR", *["TIMESTAMPTZ"] * 3, "BIGINT", "VARCHAR"], "now()")


def _insert_rows(
    con: Any, table: str, rows: list[list[Any]], types: list[str], *extra: str
) -> None:
    """Rows into a table in one statement (executemany costs a statement per row)."""
    picks = ", ".join([*(f"unnest(?::{t}[])" for t in types), *extra])
    con.execute(f"INSERT INTO {table} SELECT {picks}", [list(c) for c in zip(*rows, strict=True)])


def _insert(engine: DuckDBEngine, expr: ir.Table, names: dict[str, str]) -> None:
    """Rows into the state, ordered by experiment and entry: a refresh reads the
    entries of recent windows, and of enrolling experiments, without the rest."""
    cols = [*STATE_COLUMNS, *names.values()]
    engine.raw.execute(
        f"INSERT INTO {STATE} ({', '.join(cols)}) SELECT {', '.join(cols)} "
        f"FROM ({engine.compile(expr)}) ORDER BY experiment_key, entry_ts"
    )


def _rebuild(
    engine: DuckDBEngine,
    plan: Plan,
    windows: list[ExperimentWindow],
    names: dict[str, str],
    exposures: str,
    events: str,
    on_progress: Progress | None,
) -> None:
    """Every entry of ``windows`` from all the data: entries first (a share of the units
    at a time, for the group-by's memory), then their measures a slice of entry time
    at a time (each slice reads only the events that can reach it)."""
    con = engine.raw
    keys = [w.key for w in windows]
    con.execute(
        f"DELETE FROM {STATE} WHERE experiment_key IN (SELECT unnest(?::VARCHAR[]))", [keys]
    )
    ex, ev = engine.table(exposures), engine.table(events)
    parts = engine.unit_parts(ex.filter(ex.experiment_key.isin(keys)))
    entries = engine.cache_parts(
        [state_entry_rows(ex, windows, engine.dialect, part, parts) for part in range(parts)]
    )
    span = engine.execute(
        entries.aggregate(
            first=entries.entry_ts.min(), last=entries.entry_ts.max(), n=entries.count()
        )
    ).to_pylist()[0]
    # few entries: one slice (a thousand years) costs less than a query per month
    width = timedelta(days=SLICE_DAYS if span["n"] > engine.slice_entries else 366_000)
    slices = _slices(span["first"], span["last"], width)
    for i, (since, until) in enumerate(slices):
        _insert(
            engine,
            state_rows_between(entries, ev, plan, engine.dialect, names, since, until),
            names,
        )
        if on_progress:
            on_progress("slices of entry time rebuilt", i + 1, len(slices))
    engine.release(entries)


#: Days of entry time measured together in a large rebuild: each slice reads the events of
#: itself and of the window around it (span days), so wider slices read fewer events
#: twice and narrower ones meet fewer of a unit's events per entry in the join.
SLICE_DAYS: Final = 30


def _slices(
    first: datetime | None, last: datetime | None, width: timedelta
) -> list[tuple[datetime, datetime]]:
    """Consecutive [since, until) ranges of ``width`` covering every entry time in
    [first, last]."""
    if first is None or last is None:
        return []
    out = []
    since = first
    while since <= last:
        until = since + width
        out.append((since, until))
        since = until
    return out


def _forward(
    engine: DuckDBEngine,
    plan: Plan,
    windows: list[ExperimentWindow],
    states: dict[str, dict[str, Any]],
    names: dict[str, str],
    exposures: str,
    events: str,
    seq1: int,
) -> tuple[int, datetime]:
    """Fold in what came after each experiment's watermark; returns the entries rebuilt
    and the entry time before which no entry changed."""
    con = engine.raw
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _tl_marks (experiment_key VARCHAR, since_seq BIGINT, "
        "since_ts TIMESTAMPTZ, enrol_from TIMESTAMPTZ, cutoff TIMESTAMPTZ, xi SMALLINT)"
    )
    marks = [
        [
            w.key,
            states[w.key]["seq"],
            states[w.key]["cutoff"],
            states[w.key]["enrol_end"],
            bounds(w)[2],
            i,
        ]
        for i, w in enumerate(windows)
    ]
    _insert_rows(con, "_tl_marks", marks, ["VARCHAR", "BIGINT", *["TIMESTAMPTZ"] * 3, "SMALLINT"])
    # exposures not yet seen: loaded after the watermark, or in enrolment's extension
    # (two plain range conditions rather than one OR: each lets the engine skip the
    # row groups outside it, as rows arrive in load order and mostly in time order;
    # experiments whose enrolment had already ended have no extension to read)
    since_seq = min(states[w.key]["seq"] for w in windows)
    query = f"""SELECT e.* FROM {exposures} e JOIN _tl_marks m USING (experiment_key)
        WHERE e.load_seq > {since_seq} AND e.load_seq <= {seq1} AND e.load_seq > m.since_seq"""
    grown = [w.key for w in windows if bounds(w)[1] > states[w.key]["enrol_end"]]
    # (none loaded up to the watermark is timed in the extension: nothing to read)
    seen = _latest(con, exposures, max((states[k]["seq"] for k in grown), default=0))
    params: list[Any] = []
    if grown and (seen is None or seen >= min(states[k]["enrol_end"] for k in grown)):
        query += f"""
        UNION ALL
        SELECT e.* FROM {exposures} e JOIN _tl_marks m USING (experiment_key)
        WHERE e.timestamp >= ? AND e.load_seq <= ? AND e.timestamp >= m.enrol_from
          AND e.load_seq <= m.since_seq AND m.experiment_key IN (SELECT unnest(?::VARCHAR[]))"""
        params = [
            min(states[k]["enrol_end"] for k in grown),
            max(states[k]["seq"] for k in grown),
            grown,
        ]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _tl_x AS {query}", params)
    new = state_entries(engine.table("_tl_x"), windows, engine.dialect)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _tl_new AS {engine.compile(new)}")
    # Only experiments with new exposures are probed for new or moved entries
    # (the state is ordered by experiment, so the others' rows are skipped unread).
    enrolling = [
        r[0] for r in con.execute("SELECT DISTINCT experiment_key FROM _tl_new").fetchall()
    ]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _tl_touched AS
        SELECT n.experiment_key, n.unit_id FROM _tl_new n
        LEFT JOIN (SELECT experiment_key, unit_id, entry_ts FROM {STATE}
                   WHERE experiment_key IN (SELECT unnest(?::VARCHAR[]))) s
          ON s.experiment_key = n.experiment_key AND s.unit_id = n.unit_id
        WHERE s.unit_id IS NULL OR n.entry_ts < s.entry_ts
        UNION
        SELECT m.experiment_key, r.unit_id FROM restated r
        JOIN _tl_marks m ON r.load_seq > m.since_seq AND r.load_seq <= {seq1}""",
        [enrolling],
    )
    touched = int(con.execute("SELECT count(*) FROM _tl_touched").fetchone()[0])  # type: ignore[index]
    # the earliest entry this update changes: touched ones (as they were and as they
    # will be) and those that saw another variant
    # (each read of the state names its experiments as constants: the state is ordered
    # by experiment, so the others' rows are skipped unread, which a join cannot do)
    keys = [r[0] for r in con.execute("SELECT DISTINCT experiment_key FROM _tl_touched").fetchall()]
    mine = "s.experiment_key IN (SELECT unnest(?::VARCHAR[]))"
    queries: list[tuple[str, list[Any]]] = []
    if touched:
        queries += [
            (
                f"""SELECT min(s.entry_ts) FROM {STATE} s JOIN _tl_touched t
                ON s.experiment_key = t.experiment_key AND s.unit_id = t.unit_id
                WHERE {mine}""",
                [keys],
            ),
            (
                """SELECT min(n.entry_ts) FROM _tl_new n JOIN _tl_touched t
                ON n.experiment_key = t.experiment_key AND n.unit_id = t.unit_id""",
                [],
            ),
        ]
    if enrolling:
        queries.append(
            (
                f"""SELECT min(s.entry_ts) FROM {STATE} s JOIN _tl_new n
                ON s.experiment_key = n.experiment_key AND s.unit_id = n.unit_id
                WHERE {mine}
                  AND (n.variant_key < s.variant_key OR n.variant_max > s.variant_max)""",
                [enrolling],
            )
        )
    changed = [v for q, a in queries for (v,) in con.execute(q, a).fetchall() if v is not None]
    if enrolling:  # another variant seen by a unit whose entry stays
        con.execute(
            f"""UPDATE {STATE} AS s SET variant_key = least(s.variant_key, n.variant_key),
                variant_max = greatest(s.variant_max, n.variant_max)
            FROM _tl_new n
            WHERE {mine}
              AND s.experiment_key = n.experiment_key AND s.unit_id = n.unit_id
              AND (n.variant_key < s.variant_key OR n.variant_max > s.variant_max)""",
            [enrolling],
        )
    if touched:
        con.execute(
            f"""DELETE FROM {STATE} AS s USING _tl_touched t
            WHERE {mine} AND s.experiment_key = t.experiment_key AND s.unit_id = t.unit_id""",
            [keys],
        )
    # events not yet counted (read once), added to the entries that stay
    min_seq = min(states[w.key]["seq"] for w in windows)
    min_ts = min(states[w.key]["cutoff"] for w in windows)
    query = f"SELECT * FROM {events} WHERE load_seq > {min_seq} AND load_seq <= {seq1}"
    # rows loaded before, timed at or after the old cutoff (none, mostly: a scan by
    # time is skipped when no row loaded up to the watermark is that late)
    seen = _latest(con, events, min_seq)
    params = []
    if seen is None or seen >= min_ts:
        query += f" UNION ALL SELECT * FROM {events} WHERE timestamp >= ? AND load_seq <= {min_seq}"
        params = [min_ts]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _tl_ev AS {query}", params)
    first, last = con.execute("SELECT min(timestamp), max(timestamp) FROM _tl_ev").fetchall()[0]
    held = [names[c] for c in plan.measures.values()]
    if first is not None:
        # an event at t reaches an entry at e when e + lo <= t < e + hi: only entries
        # in (first - hi, last - lo] can gain anything (the state is ordered by entry)
        lo, hi = plan.span
        changed.append(first - timedelta(days=hi))
        st = engine.table(STATE)
        st = st.filter(
            (st.entry_ts > ibis.literal(first - timedelta(days=hi)))
            & (st.entry_ts <= ibis.literal(last - timedelta(days=lo)))
        )
        marks = engine.table("_tl_marks")
        entries = st.join(marks, "experiment_key").select(
            "experiment_key",
            "unit_id",
            "entry_ts",
            "xi",
            "since_seq",
            "since_ts",
            exp_end=marks.cutoff,
        )
        delta = state_delta(engine.table("_tl_ev"), entries, plan, engine.dialect, names)
        delta = delta.join(marks, "xi").select("experiment_key", "unit_id", *held)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _tl_delta AS {engine.compile(delta)}")
        sets = ", ".join(f"{c} = s.{c} + d.{c}" for c in held)
        con.execute(
            f"""UPDATE {STATE} AS s SET {sets} FROM _tl_delta d
            WHERE s.entry_ts > ? AND s.entry_ts <= ?
              AND s.experiment_key = d.experiment_key AND s.unit_id = d.unit_id""",
            [first - timedelta(days=hi), last - timedelta(days=lo)],
        )
    # the touched units, from all their rows
    if touched:
        since = _touched_since(con, seq1)
        ex = engine.table(exposures)
        ex = ex.filter(ex.timestamp >= ibis.literal(since))
        t = engine.table("_tl_touched")
        tex = ex.semi_join(t, [ex.experiment_key == t.experiment_key, ex.unit_id == t.unit_id])
        tu = t.select("unit_id").distinct()
        tev = engine.table(events)
        # events reach an entry from span[0] days before it (the CUPED pre-period)
        tev = tev.filter(tev.timestamp >= ibis.literal(since + timedelta(days=plan.span[0])))
        tev = tev.semi_join(tu, tev.unit_id == tu.unit_id)
        _insert(engine, state_rows(tex, tev, plan, windows, engine.dialect, names), names)
    for name in ("_tl_marks", "_tl_x", "_tl_new", "_tl_touched", "_tl_ev", "_tl_delta"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return touched, min(changed, default=FAR_FUTURE)


def _latest(con: Any, table: str, seq: int) -> datetime | None:
    """A time no row of ``table`` loaded up to ``seq`` is at or after (None: unknown)."""
    rows = con.execute(f"SELECT seq, max_ts FROM {LATEST} WHERE tbl = ?", [table]).fetchall()
    if not rows or rows[0][0] < seq:
        return None
    return rows[0][1] or FAR_PAST


def _mark_latest(con: Any, table: str, seq1: int) -> None:
    """Bring the latest time of ``table``'s rows forward to load ``seq1``: from the
    loads after the last mark alone (a range of load numbers, read without the rest);
    the first time, from every row. Rows restated away can only lower the true
    latest time: the mark stays an upper bound."""
    rows = con.execute(f"SELECT seq, max_ts FROM {LATEST} WHERE tbl = ?", [table]).fetchall()
    if rows and rows[0][0] == seq1:
        return
    seq0, old = (rows[0][0], rows[0][1]) if rows else (-1, None)
    [(new,)] = con.execute(
        f"SELECT max(timestamp) FROM {table} WHERE load_seq > ? AND load_seq <= ?",
        [seq0, seq1],
    ).fetchall()
    latest = max((t for t in (old, new) if t is not None), default=None)
    con.execute(f"DELETE FROM {LATEST} WHERE tbl = ?", [table])
    con.execute(f"INSERT INTO {LATEST} VALUES (?, ?, ?)", [table, seq1, latest])


def _touched_since(con: Any, seq1: int) -> datetime:
    """The earliest time a rebuilt entry can have.

    A new entry, or one moved earlier, starts at its earliest new exposure: its
    older exposures are all later (they made the entry the state holds), so the
    rows before it need not be read (rows arrive in time order: the engine skips
    them unread). A restated unit's rows were rewritten: nothing bounds them.
    """
    [(restated,)] = con.execute(
        f"SELECT count(*) FROM restated r JOIN _tl_marks m "
        f"ON r.load_seq > m.since_seq AND r.load_seq <= {seq1}"
    ).fetchall()
    if restated:
        return FAR_PAST
    [(since,)] = con.execute(
        "SELECT min(n.entry_ts) FROM _tl_new n JOIN _tl_touched t "
        "ON n.experiment_key = t.experiment_key AND n.unit_id = t.unit_id"
    ).fetchall()
    return since or FAR_PAST
