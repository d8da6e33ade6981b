"""Kept sums of the incremental refresh: entries whose windows have all closed.

An entry whose every window ended before the cutoff adds the same to the
sums at every later cutoff, unless a change reaches it (a late event inside
its windows, a late exposure, a restatement, another variant): the report
of each state update says before which entry time nothing changed. So the
sums of each experiment's entries before a boundary (a day) are kept
(``tl_frozen``), and a refresh aggregates only the entries after it, then
moves the boundary up to its own cutoff less the longest window. Percentile
caps move every unit's capped value: with them nothing is kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from tinylift.warehouse.contract import StateReport
from tinylift.warehouse.dialects import FAR_FUTURE, FAR_PAST
from tinylift.warehouse.engine import DuckDBEngine
from tinylift.warehouse.plan import Plan
from tinylift.warehouse.state import LOCK

__all__ = [
    "FROZEN",
    "FROZEN_INDEX",
    "frozen_boundary",
    "frozen_signature",
    "frozen_table",
    "read_frozen",
    "write_frozen",
]

FROZEN: Final = "tl_frozen"
FROZEN_INDEX: Final = "tl_frozen_index"


def frozen_signature(plan: Plan, queries: Mapping[str, Sequence[str]], in_progress: str) -> str:
    """What frozen sums were computed for: every metric's definition and columns, in plan
    order (the sums' names are positions), the breakdowns, and in-progress handling."""
    keys = {col: list(key) for key, col in plan.measures.items()}
    parts: list[Any] = [in_progress, sorted((k, list(v)) for k, v in queries.items())]
    for m in plan.metrics:
        parts.append(
            [
                m.model_dump(mode="json"),
                [[keys[c], t] for c, t in plan.columns[m.name]],
                plan.window_ends[m.name],
            ]
        )
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def frozen_boundary(plan: Plan, cutoff: datetime) -> datetime:
    """The day before which every entry's windows have ended at ``cutoff``."""
    longest = max([plan.span[1], *plan.ends])
    day = (min(cutoff, FAR_FUTURE) - timedelta(days=longest)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return max(day, FAR_PAST)


def _ensure_frozen(con: Any) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {FROZEN_INDEX} (experiment_key VARCHAR, "
        "boundary TIMESTAMPTZ, seq BIGINT, signature VARCHAR)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {FROZEN} (experiment_key VARCHAR, query VARCHAR, "
        "grp VARCHAR, variant_key VARCHAR, mixed BOOLEAN, vals DOUBLE[])"
    )


def read_frozen(
    engine: DuckDBEngine, report: StateReport, keys: Sequence[str], signature: str
) -> tuple[dict[str, datetime], list[tuple[Any, ...]]]:
    """The boundaries of the frozen sums still valid after ``report``'s update, and their
    rows (experiment, query, group, variant, mixed, values)."""
    con = engine.raw
    _ensure_frozen(con)
    units = con.execute("SELECT coalesce(max(seq), 0) FROM loads WHERE kind = 'units'").fetchall()
    units_seq = int(units[0][0])
    valid: dict[str, datetime] = {}
    for key, boundary, seq, sig in con.execute(
        f"SELECT experiment_key, boundary, seq, signature FROM {FROZEN_INDEX} "
        "WHERE experiment_key IN (SELECT unnest(?::VARCHAR[]))",
        [list(keys)],
    ).fetchall():
        if (
            sig == signature
            and report.prior.get(key) == seq
            and boundary <= report.unchanged_before.get(key, FAR_PAST)
            and units_seq <= seq  # attributes loaded later can move units between groups
        ):
            valid[key] = boundary
    rows = con.execute(
        f"SELECT experiment_key, query, grp, variant_key, mixed, vals FROM {FROZEN} "
        "WHERE experiment_key IN (SELECT unnest(?::VARCHAR[]))",
        [list(valid)],
    ).fetchall()
    return valid, rows


def frozen_table(
    rows: Sequence[tuple[Any, ...]], query: str, group: str | None, schema: Any
) -> Any:
    """The frozen rows of one query as a table shaped like its live result (``schema``)."""
    import pyarrow as pa

    mine = [r for r in rows if r[1] == query]
    keys = ["experiment_key", *([group] if group else []), "variant_key", "mixed"]
    values = [f.name for f in schema if f.name not in keys]
    cols: dict[str, list[Any]] = {
        "experiment_key": [r[0] for r in mine],
        **({group: [r[2] for r in mine]} if group else {}),
        "variant_key": [r[3] for r in mine],
        "mixed": [r[4] for r in mine],
    }
    for i, name in enumerate(values):
        cols[name] = [r[5][i] for r in mine]
    return pa.table({f.name: pa.array(cols[f.name]).cast(f.type) for f in schema})


def write_frozen(
    engine: DuckDBEngine,
    tables: Mapping[str, tuple[str | None, Any]],
    boundaries: Mapping[str, datetime],
    seq: int,
    signature: str,
) -> None:
    """Replace the frozen sums of the experiments in ``boundaries`` (one transaction)."""
    con = engine.raw
    _ensure_frozen(con)
    keys = list(boundaries)
    out = []
    for query, (group, table) in tables.items():
        fixed = ["experiment_key", *([group] if group else []), "variant_key", "mixed"]
        values = [c for c in table.column_names if c not in fixed]
        for r in table.to_pylist():
            if r["experiment_key"] in boundaries:
                grp = r[group] if group else None
                vals = [float(r[c] or 0.0) for c in values]
                out.append((r["experiment_key"], query, grp, r["variant_key"], r["mixed"], vals))
    import pyarrow as pa

    names = ["experiment_key", "query", "grp", "variant_key", "mixed", "vals"]
    types = [pa.string(), pa.string(), pa.string(), pa.string(), pa.bool_(), pa.list_(pa.float64())]
    data = pa.table(
        {
            n: pa.array([r[i] for r in out], type=t)
            for i, (n, t) in enumerate(zip(names, types, strict=True))
        }
    )
    index = pa.table(
        {
            "experiment_key": pa.array(keys, pa.string()),
            "boundary": pa.array(list(boundaries.values()), pa.timestamp("us", tz="UTC")),
            "seq": pa.array([seq] * len(keys), pa.int64()),
            "signature": pa.array([signature] * len(keys), pa.string()),
        }
    )
    with LOCK:
        con.register("_tl_frozen_rows", data)
        con.register("_tl_frozen_index", index)
        con.execute("BEGIN TRANSACTION")
        try:
            for table in (FROZEN, FROZEN_INDEX):
                con.execute(
                    f"DELETE FROM {table} WHERE experiment_key IN (SELECT unnest(?::VARCHAR[]))",
                    [keys],
                )
            con.execute(f"INSERT INTO {FROZEN_INDEX} SELECT * FROM _tl_frozen_index")
            con.execute(f"INSERT INTO {FROZEN} SELECT * FROM _tl_frozen_rows")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("_tl_frozen_rows")
            con.unregister("_tl_frozen_index")
        con.execute("COMMIT")
