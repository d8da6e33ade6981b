"""The incremental refresh's state where the engine writes files, not rows (Spark).

The same state as :mod:`.state` -- per (experiment, unit) the entry and every
measure, and per experiment its watermark -- kept as Parquet under the
engine's ``state_dir``. Each update writes a whole new version of the
per-entry table (``units-<n>``) beside the old one, then swaps a small pointer
file (``CURRENT.json``: the version and every experiment's watermark) with an
atomic rename. A process killed before the swap leaves the previous version in
use; the next update removes the unfinished one and completes the work.

Loads are numbered as on the embedded warehouse: exposures and events carry
``load_seq``, the number of the load that brought them (tinylift's ingestion
writes it); a ``restated`` table (kind, unit_id, load_seq), when the engine has
one, names the units whose rows a load replaced. Rows numbered above the
highest load seen when an update starts are left to the next one, so rows
appended during a refresh are neither missed nor counted twice.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from tinylift.errors import WarehouseError
from tinylift.warehouse.contract import ExperimentWindow, StateReport
from tinylift.warehouse.dialects import FAR_PAST
from tinylift.warehouse.engine import Engine, SparkEngine
from tinylift.warehouse.plan import Plan
from tinylift.warehouse.query import STATE_COLUMNS, state_delta, state_entries, state_rows
from tinylift.warehouse.state import (
    LOCK,
    STATE,
    Progress,
    asks_earlier,
    augmented,
    bounds,
    classify,
    measure_columns,
    state_report,
)

__all__ = ["POINTER", "update_file_state"]

POINTER: Final = "CURRENT.json"
_ENTRY_TYPES: Final = dict.fromkeys(STATE_COLUMNS, "string") | {"entry_ts": "timestamp('UTC')"}


def update_file_state(
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
    """:func:`.state.update_state` for Spark: a new Parquet version, then the pointer."""
    if not isinstance(engine, SparkEngine):
        raise WarehouseError(
            f"the incremental refresh keeps its state in the embedded warehouse or, on "
            f"Spark, in Parquet files; {engine.name} refreshes in full"
        )
    root = engine.state_dir
    if root is None:
        raise WarehouseError(
            "the incremental refresh on Spark keeps its state in Parquet files: give "
            "SparkEngine(state_dir=...) a directory the driver and executors share"
        )
    ex, ev = engine.table(exposures), engine.table(events)
    for name, table in ((exposures, ex), (events, ev)):
        if "load_seq" not in table.columns:
            raise WarehouseError(
                f"spark: table {name!r} has no load_seq column; the incremental refresh "
                "folds in rows by the number of the load that brought them (tinylift's "
                "ingestion writes it), so refresh in full or add it"
            )
    names = measure_columns(plan)
    with LOCK:
        root.mkdir(parents=True, exist_ok=True)
        version, states = _read_pointer(root)
        _sweep(root, version)
        if asks_earlier(states, windows, full):
            return None
        seqs = ibis.union(ex.select("load_seq"), ev.select("load_seq"))
        seq1 = int(_scalar(engine, seqs.load_seq.max()) or 0)
        rebuild, forward, current = classify(states, windows, plan, needs, names, full, seq1)
        if on_progress:
            on_progress("experiments updated", 0, len(windows))
        if not rebuild and not forward:
            engine.view_parquet(STATE, root / f"units-{version}")
            return state_report(
                [], [], current, states, loads=0, touched=0, seq=seq1, changed_from=FAR_PAST
            )
        old = engine.view_parquet("_tl_old", root / f"units-{version}") if version else None
        held = [c for c in (old.columns if old is not None else []) if c not in STATE_COLUMNS]
        aug = augmented(plan, [states[w.key]["measures"] for w in forward])
        cols = list(dict.fromkeys([*held, *names.values(), *measure_columns(aug).values()]))
        exf = ex.filter(ex.load_seq <= seq1)
        evf = ev.filter(ev.load_seq <= seq1)
        parts = []
        cached: list[ir.Table] = []
        if old is not None:
            redone = [w.key for w in [*rebuild, *forward]]
            parts.append(_shape(old.filter(~old.experiment_key.isin(redone)), cols))
        if rebuild:
            rows = state_rows(exf, evf, plan, rebuild, engine.dialect, names)
            parts.append(_shape(rows, cols))
        touched = 0
        if forward:
            assert old is not None  # an experiment brought forward has a state
            stay, fresh, touched = _forward(
                engine, aug, forward, states, _shape(old, cols), exf, evf, seq1, cached
            )
            parts += [_shape(stay, cols), _shape(fresh, cols)]
        new_version = version + 1
        engine.write_parquet(
            ibis.union(*parts) if len(parts) > 1 else parts[0],
            root / f"units-{new_version}",
            ["experiment_key", "entry_ts"],
        )
        for table in cached:
            engine.release(table)
        if on_progress:
            on_progress("state versions written", 1, 1)
        computed = {names[c]: list(key) for key, c in plan.measures.items()}
        prior = dict(states)
        for w in [*rebuild, *forward]:
            start, enrol, end = bounds(w)
            states[w.key] = {
                "start": start,
                "enrol_end": enrol,
                "cutoff": end,
                "seq": seq1,
                "measures": states[w.key]["measures"] if w in forward else computed,
            }
        _write_pointer(root, new_version, states)  # the update takes effect here
        engine.view_parquet(STATE, root / f"units-{new_version}")
        _sweep(root, new_version)
        oldest = min((prior[w.key]["seq"] for w in forward), default=seq1)
        loads = 0
        if forward:
            window = seqs.filter((seqs.load_seq > oldest) & (seqs.load_seq <= seq1))
            loads = int(_scalar(engine, window.load_seq.nunique()) or 0)
            if on_progress:
                on_progress("loads folded in", loads, loads)
        if on_progress:
            on_progress("experiments updated", len(rebuild) + len(forward), len(windows))
        return state_report(
            rebuild, forward, current, prior,
            loads=loads, touched=touched, seq=seq1, changed_from=FAR_PAST,
        )  # fmt: skip


def _forward(
    engine: SparkEngine,
    plan: Plan,
    windows: list[ExperimentWindow],
    states: Mapping[str, Mapping[str, Any]],
    old: ir.Table,
    exposures: ir.Table,
    events: ir.Table,
    seq1: int,
    cached: list[ir.Table],
) -> tuple[ir.Table, ir.Table, int]:
    """The forward experiments' entries that stay (variants widened, new events added)
    and those rebuilt from all their rows (new, moved, restated); and how many."""
    names = measure_columns(plan)
    held = list(names.values())
    engine.register(
        "_tl_marks",
        pa.table(
            {
                "experiment_key": [w.key for w in windows],
                "since_seq": pa.array([states[w.key]["seq"] for w in windows], pa.int64()),
                "since_ts": pa.array(
                    [states[w.key]["cutoff"] for w in windows], pa.timestamp("us", "UTC")
                ),
                "enrol_from": pa.array(
                    [states[w.key]["enrol_end"] for w in windows], pa.timestamp("us", "UTC")
                ),
                "cutoff": pa.array([bounds(w)[2] for w in windows], pa.timestamp("us", "UTC")),
                "xi": pa.array(range(len(windows)), pa.int16()),
            }
        ),
    )
    marks = engine.table("_tl_marks")
    mine = old.filter(old.experiment_key.isin([w.key for w in windows]))
    # exposures not yet seen: loaded after the watermark, or in enrolment's extension
    xj = exposures.join(marks, "experiment_key")
    x = xj.filter((xj.load_seq > xj.since_seq) | (xj.timestamp >= xj.enrol_from))
    new = engine.cache(state_entries(x.select(*exposures.columns), windows, engine.dialect))
    cached.append(new)
    o = mine.select(ok=mine.experiment_key, ou=mine.unit_id, ots=mine.entry_ts)
    j = new.left_join(o, [new.experiment_key == o.ok, new.unit_id == o.ou])
    moved = j.filter(j.ou.isnull() | (j.entry_ts < j.ots)).select("experiment_key", "unit_id")
    if "restated" in engine.con.list_tables():
        r = engine.table("restated")
        r = r.join(marks, (r.load_seq > marks.since_seq) & (r.load_seq <= seq1))
        moved = moved.union(r.select("experiment_key", "unit_id"))
    touched = engine.cache(moved.distinct())
    cached.append(touched)
    stay = mine.anti_join(
        touched,
        [mine.experiment_key == touched.experiment_key, mine.unit_id == touched.unit_id],
    )
    # another variant seen by a unit whose entry stays
    n = new.select(nk=new.experiment_key, nu=new.unit_id, nv=new.variant_key, nx=new.variant_max)
    sj = stay.left_join(n, [stay.experiment_key == n.nk, stay.unit_id == n.nu])
    stay = sj.mutate(
        variant_key=ibis.least(sj.variant_key, sj.nv.fill_null(sj.variant_key)),
        variant_max=ibis.greatest(sj.variant_max, sj.nx.fill_null(sj.variant_max)),
    ).drop("nk", "nu", "nv", "nx")
    # events not yet counted, added to the entries they reach
    min_seq = min(states[w.key]["seq"] for w in windows)
    min_ts = min(states[w.key]["cutoff"] for w in windows)
    ev = events.filter((events.load_seq > min_seq) | (events.timestamp >= min_ts))
    first, last = _scalar(engine, ev.timestamp.min()), _scalar(engine, ev.timestamp.max())
    if first is not None:
        lo, hi = plan.span
        begin, end = first - timedelta(days=hi), last - timedelta(days=lo)
        st = stay.filter((stay.entry_ts > begin) & (stay.entry_ts <= end))
        entries = st.join(marks, "experiment_key").select(
            "experiment_key", "unit_id", "entry_ts", "xi", "since_seq", "since_ts",
            exp_end=marks.cutoff,
        )  # fmt: skip
        delta = state_delta(ev, entries, plan, engine.dialect, names)
        delta = delta.join(marks, "xi").select(
            dk=marks.experiment_key, du=delta.unit_id, **{f"d_{c}": delta[c] for c in held}
        )
        dj = stay.left_join(delta, [stay.experiment_key == delta.dk, stay.unit_id == delta.du])
        stay = dj.mutate(**{c: dj[c] + dj[f"d_{c}"].fill_null(0.0) for c in held}).drop(
            "dk", "du", *[f"d_{c}" for c in held]
        )
    # the touched units, from all their rows
    tex = exposures.semi_join(
        touched,
        [exposures.experiment_key == touched.experiment_key, exposures.unit_id == touched.unit_id],
    )
    tu = touched.select("unit_id").distinct()
    tev = events.semi_join(tu, events.unit_id == tu.unit_id)
    fresh = state_rows(tex, tev, plan, windows, engine.dialect, names)
    return stay, fresh, int(_scalar(engine, touched.count()))


def _scalar(engine: Engine, expr: ir.Scalar) -> Any:
    """A scalar result as Python (None for the max of nothing)."""
    return engine.con.to_pyarrow(expr).as_py()


def _shape(t: ir.Table, cols: list[str]) -> ir.Table:
    """The state's columns in one order and type (NULL where a measure is not held)."""
    return t.select(
        **{c: t[c].cast(kind) for c, kind in _ENTRY_TYPES.items()},
        **{c: t[c].cast("float64") if c in t.columns else ibis.null("float64") for c in cols},
    )


def _read_pointer(root: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    path = root / POINTER
    if not path.exists():
        return 0, {}
    try:
        data = json.loads(path.read_text())
        states = {
            key: {
                "start": datetime.fromisoformat(s["start"]),
                "enrol_end": datetime.fromisoformat(s["enrol_end"]),
                "cutoff": datetime.fromisoformat(s["cutoff"]),
                "seq": int(s["seq"]),
                "measures": s["measures"],
            }
            for key, s in data["experiments"].items()
        }
        return int(data["version"]), states
    except (ValueError, KeyError, TypeError) as exc:
        raise WarehouseError(
            f"{path} is not a state pointer tinylift wrote ({exc}); remove the directory "
            "to rebuild the state"
        ) from None


def _write_pointer(root: Path, version: int, states: Mapping[str, Mapping[str, Any]]) -> None:
    data = {
        "version": version,
        "experiments": {
            key: {
                **{k: s[k].isoformat() for k in ("start", "enrol_end", "cutoff")},
                "seq": s["seq"],
                "measures": s["measures"],
            }
            for key, s in states.items()
        },
    }
    tmp = root / f".{POINTER}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / POINTER)


def _sweep(root: Path, version: int) -> None:
    """Remove every version but ``version`` (old ones, and any a killed update left)."""
    for path in root.glob("units-*"):
        if path.name != f"units-{version}":
            shutil.rmtree(path, ignore_errors=True)
