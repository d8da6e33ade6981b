"""Refresh cost against baselines measured in the same run.

For each size (events), on the simulated company loaded into a DuckDB file:

- floor: DuckDB's bare scan of the columns the refresh reads (from the disk cache:
  read once before the timed scan, as the other jobs mostly read);
- pandas: the same per-unit computation for one experiment, in pandas;
- tea-tasting (over Ibis/DuckDB): hand-written per-unit SQL for one
  experiment, four metrics with CUPED covariates, statistics in tea-tasting;
- tinylift refresh for 1 experiment with tea-tasting's four metrics
  (refresh-1-4m), for 1 experiment with all ten catalog metrics, and for every
  experiment (42) with all ten;
- the steps any refresh of every experiment needs, in plain DuckDB SQL and
  computing no metric (lower bounds for the refresh-all job):
  first-exposures (each unit's first exposure per experiment), pairs (events
  joined to those entries within the widest window, only counted) and
  cumulative (the pair-free plan: running sums per unit in time order).

The incremental refresh (``--jobs daily`` runs them all): the company as of
the last day two experiments of its calendar enrol (rows after it dropped:
later, little runs and a refresh has little to do; --sizes 1.12e8 leaves
100 M events; rows in time order, as daily loads leave them), without that
day, refreshed once with the state kept (not timed), then that day (~1/365
of the rows) appended as a new load; on a fresh copy each time:

- day-floor: DuckDB's bare scan of that load's events and exposures;
- entries-floor: DuckDB's bare scan of the state rows the refresh reads: the
  keys of experiments with new exposures (probed for new entries), and every
  column of entries the day's events reach or whose windows are still open;
- pre-period-floor: DuckDB's bare scan of the events of the CUPED pre-period
  before the day (28 days), which the day's new entries need;
- day-write: DuckDB's bare write of what the day changes in the state, in
  one committed transaction: the entries its events reach updated and as many
  rows inserted as it brings new entries (computing nothing);
- incremental: the refresh of all 42 experiments, brought forward to the
  new cutoff (its state report: loads folded, entries rebuilt);
- full-at-day: today's full refresh of the same windows (no state);
- rebuild: the state rebuilt from all the data (``refresh --full``);
- one-by-one: one full refresh per experiment, as warehouse-native tools run;
- the rebuild's lower bounds, in plain DuckDB SQL computing no metric:
  entries-kept (first exposure per (experiment, unit) with the variants and
  the attributes at entry, in the engine's shares of units), pairs-sliced
  (events joined to those entries inside the widest window, only counted,
  thirty days of entry time at a time, as the rebuild runs) and state-written
  (the state's rows copied once, unsorted).

Each job runs in a fresh process (best of --repeat), printing seconds and
peak memory; ratios are against the floor measured in the same run. Data are
generated once per size into benchmarks/.cache/.

    python benchmarks/bench_refresh.py [--sizes 1e6,1e7,1e8] [--repeat 3] [--jobs a,b]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

CACHE = Path(__file__).parent / ".cache"
EVENTS_PER_USER = 11.9  # the simulator's average
ONE = "price-discount-10"
FOUR = ["conversion", "revenue", "returns", "orders"]


def build(events: int) -> Path:
    users = max(1_000, int(events / EVENTS_PER_USER))
    path = CACHE / f"company-{users}.duckdb"
    if path.exists():
        return path
    from tinylift.config import Settings
    from tinylift.demo.dataset import load_demo

    CACHE.mkdir(exist_ok=True)
    ws = CACHE / f"ws-{users}"
    ws.mkdir(exist_ok=True)
    start = time.perf_counter()
    load_demo(Settings(workspace=ws), users=users, seed=0)
    (ws / "warehouse.duckdb").rename(path)
    (ws / "metrics.yml").rename(CACHE / "metrics.yml")
    print(f"  generated {users:,} users in {time.perf_counter() - start:.0f} s", flush=True)
    return path


INCREMENTAL = [
    "day-floor",
    "entries-floor",
    "pre-period-floor",
    "day-write",
    "incremental",
    "full-at-day",
    "rebuild",
    "one-by-one",
]
#: What any rebuild of the state pays, in plain DuckDB SQL on the same data (no metric
#: computed): the entries as the state keeps them, the (event, entry) pairs inside the
#: widest window (counted, in the rebuild's slices of entry time) and the state's rows
#: written once.
REBUILD_BOUNDS = ["entries-kept", "pairs-sliced", "state-written"]


def _day_windows(users: int, catalog: object, cutoff: object) -> list[object]:
    """Every experiment at ``cutoff``: enrolment to its end (or the cutoff), events to the
    cutoff, every catalog metric."""
    from tinylift.demo.dataset import experiment_windows
    from tinylift.demo.simulate import Simulation

    out = []
    for w in experiment_windows(Simulation(users=users, days=365, seed=0)):
        enrol = min(w.end, cutoff) if w.end else cutoff  # type: ignore[operator]
        out.append(
            dataclasses.replace(
                w,
                metrics=tuple(catalog.metrics),  # type: ignore[attr-defined]
                end=cutoff,
                enrol_end=enrol,
            )
        )
    return out


def _last_day(db: Path) -> object:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    last = con.execute("SELECT date_trunc('day', max(timestamp)) FROM events").fetchone()[0]  # type: ignore[index]
    con.close()
    return last


def build_incremental(db: Path) -> Path:
    """The company without its last day, its state kept at that cutoff, then the last day
    appended as one more load (the job's starting point; copied for every run)."""
    import shutil

    import duckdb

    from tinylift.demo.dataset import experiment_windows
    from tinylift.demo.simulate import Simulation
    from tinylift.metrics import load_catalog
    from tinylift.warehouse import refresh
    from tinylift.warehouse.engine import DuckDBEngine
    from tinylift.warehouse.store import Warehouse

    out = db.with_name(f"inc-{db.name}")
    if out.exists():
        return out
    tmp = out.with_suffix(".tmp")
    shutil.copy(db, tmp)
    Warehouse(tmp).close()  # load columns and tables
    con = duckdb.connect(str(tmp))
    con.execute("SET TimeZone = 'UTC'")
    users = int(db.stem.removeprefix("company-"))
    keys = [w.key for w in experiment_windows(Simulation(users=users, days=365, seed=0))]
    # the last day two experiments of the calendar enrol (each at least 1 % of its
    # units that day); what came after is dropped
    last = con.execute(
        """SELECT max(day) FROM (
            SELECT day FROM (
                SELECT experiment_key, date_trunc('day', timestamp) AS day,
                    count(*) / sum(count(*)) OVER (PARTITION BY experiment_key) AS share
                FROM exposures WHERE experiment_key IN (SELECT unnest(?::VARCHAR[]))
                GROUP BY experiment_key, day)
            WHERE share >= 0.01 GROUP BY day HAVING count(*) >= 2)""",
        [keys],
    ).fetchone()[0]  # type: ignore[index]
    for t in ("events", "exposures"):
        # rows in time order, as a year of daily loads leaves them (the simulator
        # writes them user by user), those after the day dropped
        con.execute(
            f"CREATE TABLE sorted_{t} AS SELECT * FROM {t} WHERE timestamp < ? ORDER BY timestamp",
            [last + timedelta(days=1)],
        )
        con.execute(f"DROP TABLE {t}")
        con.execute(f"ALTER TABLE sorted_{t} RENAME TO {t}")
    for t in ("events", "exposures"):
        con.execute(f"CREATE TABLE next_{t} AS SELECT * FROM {t} WHERE timestamp >= ?", [last])
        con.execute(f"DELETE FROM {t} WHERE timestamp >= ?", [last])
    seq = con.execute("SELECT max(seq) + 1 FROM loads").fetchone()[0]  # type: ignore[index]
    con.close()
    start = time.perf_counter()
    catalog = load_catalog(CACHE / "metrics.yml")
    engine = DuckDBEngine(tmp)
    refresh(engine, catalog, _day_windows(users, catalog, last), incremental=True)  # type: ignore[arg-type]
    engine.close()
    print(f"  state kept at the day before in {time.perf_counter() - start:.0f} s", flush=True)
    con = duckdb.connect(str(tmp))
    for t in ("events", "exposures"):
        con.execute(f"UPDATE next_{t} SET load_seq = ?", [seq])
        con.execute(f"INSERT INTO {t} SELECT * FROM next_{t}")
        con.execute(f"DROP TABLE next_{t}")
    con.execute(
        "INSERT INTO loads (file, kind, loaded, seq, loaded_at) VALUES ('the last day', 'events', "
        "(SELECT count(*) FROM events WHERE load_seq = ?), ?, now())",
        [seq, seq],
    )
    con.execute("CHECKPOINT")
    con.close()
    tmp.rename(out)
    return out


def incremental_job(name: str, db: str) -> float:
    """One of the incremental scenario's jobs on a fresh copy of its starting point."""
    import shutil

    from tinylift.metrics import load_catalog
    from tinylift.warehouse import refresh
    from tinylift.warehouse.engine import DuckDBEngine

    work = Path(db).with_name("run-" + Path(db).name)
    shutil.copy(db, work)
    # the copy on disk before the clock starts: otherwise the first commit waits for
    # the whole file's pages to be written (~1 s at 100 M events), not for its own
    os.sync()
    try:
        users = int(Path(db).stem.removeprefix("inc-company-"))
        catalog = load_catalog(CACHE / "metrics.yml")
        cutoff = _last_day(Path(db)) + timedelta(days=1)  # type: ignore[operator]
        windows = _day_windows(users, catalog, cutoff)
        engine = DuckDBEngine(work)
        engine.execute(engine.table("events").limit(1))  # Ibis start-up, excluded
        con = engine.raw
        if name == "pairs-sliced":  # the entries are entries-kept's work, not timed here
            con.execute(f"CREATE TEMP TABLE _x AS {_FIRST}")
        if name == "day-write":
            write = _day_write(con, catalog, windows)
        t = time.perf_counter()
        if name == "day-floor":
            con = engine.raw
            con.execute(
                "SELECT min(unit_id), max(timestamp), sum(value), min(event_name), "
                "max(length(properties)) FROM events "
                "WHERE load_seq = (SELECT max(seq) FROM loads)"
            ).fetchall()
            con.execute(
                "SELECT min(experiment_key), min(variant_key), min(unit_id), max(timestamp), "
                "min(country), min(platform) FROM exposures "
                "WHERE load_seq = (SELECT max(seq) FROM loads)"
            ).fetchall()
        elif name == "entries-floor":
            _scan_touched(engine.raw, catalog, windows)
        elif name == "pre-period-floor":
            day = cutoff - timedelta(days=1)
            con.execute(
                "SELECT min(unit_id), max(timestamp), sum(value), min(event_name), "
                "max(length(properties)) FROM events WHERE timestamp >= ? AND timestamp < ?",
                [day - timedelta(days=-plan_lo(catalog, windows)), day],
            ).fetchall()
        elif name == "day-write":
            for sql, params in write:
                con.execute(sql, params)
        elif name == "incremental":
            r = refresh(engine, catalog, windows, incremental=True)  # type: ignore[arg-type]
            if r.state is None or len(r.state.updated) != len(windows):
                raise SystemExit(f"the state was not brought forward: {r.state}")
            print(
                f"# {r.state.loads} load folded in, {r.state.touched:,} entries rebuilt, "
                f"kept sums reused for {len(r.state.kept)} experiments"
            )
        elif name == "full-at-day":
            refresh(engine, catalog, windows)  # type: ignore[arg-type]
        elif name == "rebuild":
            refresh(engine, catalog, windows, incremental=True, full=True)  # type: ignore[arg-type]
        elif name == "one-by-one":
            for w in windows:
                refresh(engine, catalog, [w])  # type: ignore[list-item]
        elif name in REBUILD_BOUNDS:
            _rebuild_bound(name, engine)
        seconds = time.perf_counter() - t
        engine.close()
        return seconds
    finally:
        work.unlink(missing_ok=True)


def _measures(con: Any) -> list[str]:
    """The state's measure columns."""
    from tinylift.warehouse.state import STATE

    return [
        c
        for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = ? AND column_name LIKE 's\\_%' ESCAPE '\\'",
            [STATE],
        ).fetchall()
    ]


def plan_lo(catalog: object, windows: list[object]) -> int:
    """The earliest day, relative to entry, any measure reads (-28: the pre-period)."""
    from tinylift.warehouse.plan import Plan

    return Plan(catalog, [n for w in windows for n in w.metrics]).span[0]  # type: ignore[attr-defined]


def _day_write(con: Any, catalog: object, windows: list[object]) -> list[tuple[str, list[Any]]]:
    """The statements of the day's bare write (prepared untimed): the entries the day's
    events reach, each measure changed in place, and copies of state rows standing
    for the day's new entries, in one transaction."""
    from tinylift.warehouse.plan import Plan
    from tinylift.warehouse.state import STATE

    plan = Plan(catalog, [n for w in windows for n in w.metrics])  # type: ignore[attr-defined]
    new = "load_seq = (SELECT max(seq) FROM loads)"
    first = con.execute(f"SELECT min(timestamp) FROM events WHERE {new}").fetchone()[0]
    con.execute(f"CREATE TEMP TABLE _d AS SELECT DISTINCT unit_id FROM events WHERE {new}")
    con.execute(
        f"""CREATE TEMP TABLE _n AS SELECT * FROM {STATE} LIMIT (
            SELECT count(*) FROM (SELECT DISTINCT experiment_key, unit_id FROM exposures
                                  WHERE {new}) x
            ANTI JOIN {STATE} s USING (experiment_key, unit_id))"""
    )
    measures = _measures(con)
    sets = ", ".join(f"{c} = s.{c} + 1" for c in measures)
    return [
        ("BEGIN", []),
        (
            f"UPDATE {STATE} AS s SET {sets} FROM _d WHERE s.entry_ts > ? "
            "AND s.unit_id = _d.unit_id",
            [first - timedelta(days=plan.span[1])],
        ),
        (f"INSERT INTO {STATE} SELECT * FROM _n", []),
        ("COMMIT", []),
    ]


def _rebuild_bound(name: str, engine: Any) -> None:
    """One of the steps any rebuild of the state pays, in plain DuckDB SQL."""
    from tinylift.warehouse.state import SLICE_DAYS, STATE

    con = engine.raw
    if name == "entries-kept":
        parts = engine.unit_parts(engine.table("exposures"))
        for part in range(parts):
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE _k AS SELECT experiment_key, unit_id,
                    min(timestamp), min(variant_key), max(variant_key),
                    arg_min(country, timestamp), arg_min(platform, timestamp),
                    arg_min(attributes, timestamp)
                FROM exposures WHERE hash(unit_id) % {parts} = {part} GROUP BY ALL"""
            )
    elif name == "pairs-sliced":
        first, last = con.execute("SELECT min(entry), max(entry) FROM _x").fetchone()
        since = first
        while since <= last:
            until = since + timedelta(days=SLICE_DAYS)
            con.execute(
                """SELECT count(*) FROM events e
                JOIN (SELECT * FROM _x WHERE entry >= ? AND entry < ?) x
                  ON e.unit_id = x.unit_id AND e.timestamp >= x.entry - INTERVAL 28 DAY
                  AND e.timestamp < x.entry + INTERVAL 14 DAY
                WHERE e.timestamp >= ? AND e.timestamp < ?""",
                [since, until, since - timedelta(days=28), until + timedelta(days=14)],
            ).fetchall()
            since = until
    elif name == "state-written":
        con.execute(f"CREATE TABLE _copy AS SELECT * FROM {STATE}")


def _scan_touched(con: Any, catalog: object, windows: list[object]) -> None:
    """DuckDB's bare scan of the entries the day's refresh reads from its state: the
    (experiment, unit, entry) keys of experiments with new exposures (probed for new
    entries), and every column of the entries the day's events reach or whose windows
    are still open (their measures updated and aggregated)."""
    from tinylift.warehouse.frozen import frozen_boundary
    from tinylift.warehouse.plan import Plan
    from tinylift.warehouse.state import STATE

    plan = Plan(catalog, [n for w in windows for n in w.metrics])  # type: ignore[attr-defined]
    first = con.execute(
        "SELECT min(timestamp) FROM events WHERE load_seq = (SELECT max(seq) FROM loads)"
    ).fetchone()[0]
    # the boundary the previous refresh kept sums up to (its cutoff was a day earlier)
    since = min(
        first - timedelta(days=plan.span[1]),
        frozen_boundary(plan, windows[0].end - timedelta(days=1)),  # type: ignore[attr-defined]
    )
    measures = _measures(con)
    con.execute(
        f"SELECT min(experiment_key), min(unit_id), max(entry_ts) FROM {STATE} "
        "WHERE experiment_key IN (SELECT DISTINCT experiment_key FROM exposures "
        "WHERE load_seq = (SELECT max(seq) FROM loads))"
    ).fetchall()
    sums = ", ".join(f"sum({c})" for c in measures)
    con.execute(
        f"SELECT min(experiment_key), min(unit_id), min(variant_key), max(variant_max), "
        f"min(country), min(platform), max(length(attributes)), {sums} FROM {STATE} "
        "WHERE entry_ts >= ?",
        [since],
    ).fetchall()


def job(name: str, db: str) -> float:
    if name in INCREMENTAL or name in REBUILD_BOUNDS:
        return incremental_job(name, db)
    import duckdb

    from tinylift.demo.dataset import experiment_windows
    from tinylift.demo.simulate import Simulation
    from tinylift.metrics import load_catalog
    from tinylift.warehouse import refresh
    from tinylift.warehouse.engine import DuckDBEngine

    catalog = load_catalog(CACHE / "metrics.yml")
    users = int(Path(db).stem.removeprefix("company-"))
    experiments = {w.key: w for w in experiment_windows(Simulation(users=users, days=365, seed=0))}
    engine = DuckDBEngine(db, read_only=True)
    # Ibis's first query in a process costs ~0.8 s of start-up, whatever the data:
    # paid once by a long-running service, so measured apart (--job ibis-startup).
    warm = time.perf_counter()
    engine.execute(engine.table("events").limit(1))
    if name == "ibis-startup":
        return time.perf_counter() - warm
    if name == "floor":
        con = duckdb.connect(db, read_only=True)
        con.execute("SET memory_limit = '6GB'")  # as the engine does
        _scan(con)  # from the disk cache, as the other jobs mostly read
        t = time.perf_counter()
        _scan(con)
        return time.perf_counter() - t
    t = time.perf_counter()
    if name in BOUNDS:
        con = duckdb.connect(db, read_only=True)
        con.execute("SET memory_limit = '6GB'")
        con.execute(BOUNDS[name]).fetchall()
    elif name == "pandas":
        pandas_one(db)
    elif name == "tea-tasting":
        tea_tasting_one(engine)
    else:
        keys = list(experiments) if name == "refresh-all" else [ONE]
        # refresh-1-4m: the four metrics of the tea-tasting job (PERF-NOTES' scenario)
        metrics = FOUR if name == "refresh-1-4m" else list(catalog.metrics)
        windows = [dataclasses.replace(experiments[k], metrics=tuple(metrics)) for k in keys]
        refresh(engine, catalog, windows)
    return time.perf_counter() - t


def _scan(con: Any) -> None:
    """DuckDB's bare scan of the columns the refresh reads."""
    con.execute(
        "SELECT min(unit_id), max(timestamp), sum(value), min(event_name), "
        "max(length(properties)) FROM events"
    ).fetchall()
    con.execute(
        "SELECT min(experiment_key), min(variant_key), min(unit_id), max(timestamp), "
        "min(country), min(platform) FROM exposures"
    ).fetchall()


def pandas_one(db: str) -> None:
    """What one writes by hand in pandas: per-unit metrics with CUPED covariates."""
    import duckdb
    import numpy as np

    con = duckdb.connect(db, read_only=True)
    x = con.sql(f"SELECT * FROM exposures WHERE experiment_key = '{ONE}'").df()
    ev = con.sql(
        "SELECT unit_id, timestamp, event_name, value FROM events "
        "WHERE event_name IN ('purchase', 'return', 'pageview', 'click', 'support_contact')"
    ).df()
    entry = x.groupby("unit_id").agg(
        entry=("timestamp", "min"),
        variant=("variant_key", "first"),
        n=("variant_key", "nunique"),
    )
    entry = entry[entry.n == 1]
    j = ev.merge(entry, left_on="unit_id", right_index=True)
    day = np.timedelta64(1, "D")
    post = (j.timestamp >= j.entry) & (j.timestamp < j.entry + 14 * day)
    pre = (j.timestamp >= j.entry - 28 * day) & (j.timestamp < j.entry)
    cols = {}
    for e in ("purchase", "return", "pageview", "click", "support_contact"):
        is_e = j.event_name == e
        cols[f"{e}_n"] = (post & is_e).astype(float)
        cols[f"{e}_v"] = np.where(post & is_e, j.value, 0.0)
        cols[f"{e}_pre"] = np.where(pre & is_e, j.value, 0.0)
    per = j[["unit_id"]].assign(**cols).groupby("unit_id").sum()
    units = entry.join(per).fillna(0.0)
    units["conversion"] = (units.purchase_n > 0).astype(float)
    numeric = units.drop(columns=["entry", "n"]).select_dtypes("number")
    numeric.groupby(units.variant).sum()
    (numeric**2).groupby(units.variant).sum()


_FIRST = "SELECT experiment_key, unit_id, min(timestamp) AS entry FROM exposures GROUP BY ALL"
BOUNDS = {
    "first-exposures": f"SELECT count(*) FROM ({_FIRST})",
    "pairs": f"""SELECT count(*) FROM events e JOIN ({_FIRST}) x ON e.unit_id = x.unit_id
        AND e.timestamp >= x.entry - INTERVAL 28 DAY AND e.timestamp < x.entry + INTERVAL 14 DAY""",
    "cumulative": """SELECT sum(c) FROM (SELECT sum(value) OVER (PARTITION BY unit_id
        ORDER BY timestamp ROWS UNBOUNDED PRECEDING) AS c FROM events)""",
}


TEA_SQL = f"""
WITH x AS (
    SELECT unit_id, min(timestamp) AS entry, min(variant_key) AS variant
    FROM exposures WHERE experiment_key = '{ONE}'
    GROUP BY unit_id HAVING count(DISTINCT variant_key) = 1
)
SELECT x.variant,
    count(e.event_id) FILTER (e.event_name = 'purchase' AND e.timestamp >= x.entry
        AND e.timestamp < x.entry + INTERVAL 14 DAY)::DOUBLE AS orders,
    coalesce(sum(e.value) FILTER (e.event_name = 'purchase' AND e.timestamp >= x.entry
        AND e.timestamp < x.entry + INTERVAL 14 DAY), 0) AS revenue,
    count(e.event_id) FILTER (e.event_name = 'return' AND e.timestamp >= x.entry
        AND e.timestamp < x.entry + INTERVAL 14 DAY)::DOUBLE AS returns,
    (count(e.event_id) FILTER (e.event_name = 'purchase' AND e.timestamp >= x.entry
        AND e.timestamp < x.entry + INTERVAL 14 DAY) > 0)::DOUBLE AS purchased,
    count(e.event_id) FILTER (e.event_name = 'purchase' AND e.timestamp < x.entry)::DOUBLE
        AS orders_pre,
    coalesce(sum(e.value) FILTER (e.event_name = 'purchase' AND e.timestamp < x.entry), 0)
        AS revenue_pre,
    count(e.event_id) FILTER (e.event_name = 'return' AND e.timestamp < x.entry)::DOUBLE
        AS returns_pre,
    (count(e.event_id) FILTER (e.event_name = 'purchase' AND e.timestamp < x.entry) > 0)::DOUBLE
        AS purchased_pre
FROM x LEFT JOIN events e ON e.unit_id = x.unit_id
    AND e.timestamp >= x.entry - INTERVAL 28 DAY AND e.timestamp < x.entry + INTERVAL 14 DAY
    AND e.event_name IN ('purchase', 'return')
GROUP BY x.unit_id, x.variant
"""


def tea_tasting_one(engine: object) -> None:
    """tea-tasting over Ibis/DuckDB: hand-written per-unit SQL, statistics in tea-tasting."""
    import tea_tasting as tt

    engine.raw.execute(f"CREATE TEMP VIEW tea_units AS {TEA_SQL}")  # type: ignore[attr-defined]
    data = engine.con.table("tea_units")  # type: ignore[attr-defined]
    experiment = tt.Experiment(
        purchased=tt.Mean("purchased", "purchased_pre"),
        revenue=tt.Mean("revenue", "revenue_pre"),
        returns=tt.Mean("returns", "returns_pre"),
        orders=tt.Mean("orders", "orders_pre"),
    )
    experiment.analyze(data, control="control")


def measure(name: str, db: Path, repeat: int) -> tuple[float, float]:
    best, rss = float("inf"), 0.0
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--job", name, "--db", str(db)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        notes = [line for line in out.splitlines() if line.startswith("# ")]
        if notes:
            print(f"  ({name}: {notes[-1][2:]})", flush=True)
        r = json.loads(out.strip().splitlines()[-1])
        best, rss = min(best, r["seconds"]), max(rss, r["rss_mb"])
    return best, rss


def _peak_rss_mb() -> float:
    """This process's own peak memory.

    ru_maxrss is carried across fork and exec from the parent (which may have
    generated the data), so read the address space's high-water mark instead.
    """
    status = Path("/proc/self/status")
    if status.exists():  # Linux
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1e6,1e7")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pandas-above", type=float, default=2e7)
    parser.add_argument("--jobs", help="only these jobs (comma-separated; the floor always runs)")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        seconds = job(args.job, args.db)
        print(json.dumps({"seconds": seconds, "rss_mb": _peak_rss_mb()}))
        return
    for size in (float(s) for s in args.sizes.split(",")):
        db = build(int(size))
        import duckdb

        con = duckdb.connect(str(db), read_only=True)
        n_events = con.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]
        n_exp = con.execute("SELECT count(DISTINCT experiment_key) FROM exposures").fetchone()[0]  # type: ignore[index]
        con.close()
        print(
            f"\n{n_events:,} events, {n_exp} experiments (best of {args.repeat}, fresh processes)"
        )
        jobs = ["ibis-startup", "floor", "tea-tasting", "refresh-1-4m", "refresh-1", "refresh-all"]
        jobs += list(BOUNDS) + INCREMENTAL + REBUILD_BOUNDS
        if size <= args.skip_pandas_above:
            jobs.insert(2, "pandas")
        if args.jobs:
            wanted = set(args.jobs.split(","))
            if "daily" in wanted:  # the whole incremental scenario
                wanted = (wanted - {"daily"}) | set(INCREMENTAL) | set(REBUILD_BOUNDS)
            unknown = wanted - set(jobs)
            if unknown:
                parser.error(f"--jobs: unknown job(s) {', '.join(sorted(unknown))}")
            jobs = [j for j in jobs if j in wanted or j == "floor"]
        on_inc = set(INCREMENTAL) | set(REBUILD_BOUNDS)
        inc = build_incremental(db) if set(jobs) & on_inc else db
        if inc != db:
            con = duckdb.connect(str(inc), read_only=True)
            con.execute("SET TimeZone = 'UTC'")
            n_inc, day = con.execute("SELECT count(*), max(timestamp)::DATE FROM events").fetchone()  # type: ignore[misc]
            con.close()
            print(f"  (the incremental scenario: {n_inc:,} events to {day}, its last day new)")
        results = {j: measure(j, inc if j in on_inc else db, args.repeat) for j in jobs}
        floor = results["floor"][0]
        for j, (sec, rss) in results.items():
            if j == "ibis-startup":
                print(f"  (Ibis start-up, once per process: {sec:.2f} s; excluded below)")
                continue
            print(
                f"  {j:<16} {sec:8.2f} s  {rss / 1024:6.2f} GB peak   x{sec / floor:5.2f} of floor"
            )
        if set(INCREMENTAL) <= set(results):
            sec = {j: results[j][0] for j in INCREMENTAL}
            print("  incremental refresh after one more day (same run):")
            floor_day = sec["day-floor"] + sec["entries-floor"]
            print(
                f"    x{sec['incremental'] / floor_day:.1f} of the bare scan of the day's rows "
                "plus the entries it touches"
            )
            write = sec["day-write"] / floor_day
            print(f"    the bare write of the day's changes alone: x{write:.1f} of those scans")
            with_pre = floor_day + sec["pre-period-floor"]
            print(
                f"    x{sec['incremental'] / with_pre:.1f} of those scans and the new entries' "
                "pre-period events"
            )
            print(f"    x{sec['full-at-day'] / sec['incremental']:.1f} less than the full refresh")
            ratio = sec["full-at-day"] / sec["rebuild"]
            print(f"    rebuild x{ratio:.2f} faster than the full refresh")
            print(f"    rebuild x{sec['one-by-one'] / sec['rebuild']:.2f} faster than one by one")
        if set(REBUILD_BOUNDS) <= set(results):
            bound = sum(results[j][0] for j in REBUILD_BOUNDS)
            print(
                f"  the rebuild's lower bound (entries kept + pairs counted + state written, "
                f"plain SQL): {bound:.1f} s"
            )
            if "one-by-one" in results:
                print(f"    one by one / lower bound: x{results['one-by-one'][0] / bound:.2f}")
        if "refresh-all" in results and "refresh-1" in results:
            ratio = results["refresh-all"][0] / results["refresh-1"][0]
            print(f"  all {n_exp} experiments cost x{ratio:.2f} of one")


if __name__ == "__main__":
    main()
