"""The embedded warehouse: a DuckDB file holding exposures and events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final, Literal

import duckdb
import pyarrow as pa

from tinylift.errors import WarehouseError
from tinylift.warehouse.schema import (
    EVENTS_SCHEMA,
    EXPOSURES_SCHEMA,
    MARKETS_SCHEMA,
    UNITS_SCHEMA,
)

__all__ = ["SEQUENCED", "TABLES", "TABLE_NAMES", "Warehouse", "next_load", "record_load"]

Kind = Literal["exposures", "events", "units", "markets"]
TABLES: Final[dict[str, pa.Schema]] = {
    "exposures": EXPOSURES_SCHEMA,
    "events": EVENTS_SCHEMA,
    "units": UNITS_SCHEMA,
    "markets": MARKETS_SCHEMA,
}
#: Where each kind of data lives in the warehouse.
TABLE_NAMES: Final = {
    "exposures": "exposures",
    "events": "events",
    "units": "unit_attributes",
    "markets": "market_series",
}

_DUCK_TYPES: Final = {
    pa.string(): "VARCHAR",
    pa.float64(): "DOUBLE",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
    pa.date32(): "DATE",
}


def _ddl(name: str, schema: pa.Schema) -> str:
    cols = ", ".join(
        f"{f.name} {_DUCK_TYPES[f.type]}{'' if f.nullable else ' NOT NULL'}" for f in schema
    )
    return f"CREATE TABLE IF NOT EXISTS {name} ({cols})"


#: Kinds whose rows carry the load that brought them (``load_seq``): the
#: incremental refresh folds in what came after its watermark.
SEQUENCED: Final = ("exposures", "events")


def ensure_load_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Columns and tables of load sequencing (warehouses made before them gain them;
    their rows count as load 0)."""
    for name in ("exposures", "events"):
        con.execute(f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS load_seq BIGINT DEFAULT 0")
    # units whose rows a restated load replaced: the incremental refresh rebuilds them
    con.execute(
        "CREATE TABLE IF NOT EXISTS restated (kind VARCHAR, unit_id VARCHAR, load_seq BIGINT)"
    )


def next_load(con: duckdb.DuckDBPyConnection) -> int:
    """The sequence number of a new load (inside the load's transaction)."""
    row = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM loads").fetchone()
    return int(row[0]) if row else 1


def record_load(
    con: duckdb.DuckDBPyConnection,
    file: str,
    sha: str,
    kind: str,
    counts: tuple[int, int, int, int],
    seq: int,
) -> None:
    """The audit line of one load: read, loaded, quarantined, duplicates."""
    con.execute(
        "INSERT INTO loads (file, file_sha256, kind, read, loaded, quarantined, duplicates, "
        "loaded_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, now(), ?)",
        [file, sha, kind, *counts, seq],
    )


class Warehouse:
    """A DuckDB warehouse file with the data model's tables."""

    def __init__(self, path: Path | str, *, memory_limit: str | None = "6GB") -> None:
        self.path = Path(path)
        self._depth = 0
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open the warehouse {self.path}: {exc}") from None
        if self.path.exists():
            self.path.chmod(0o600)  # raw rows with user ids: the owner's alone
        # Timestamps are UTC everywhere; DuckDB would otherwise use local time.
        self.con.execute("SET TimeZone = 'UTC'")
        if memory_limit is not None:
            self.con.execute("SET memory_limit = ?", [memory_limit])
        for kind, schema in TABLES.items():
            self.con.execute(_ddl(TABLE_NAMES[kind], schema))
        # warehouses made before exposures kept their attributes
        self.con.execute("ALTER TABLE exposures ADD COLUMN IF NOT EXISTS attributes VARCHAR")
        ensure_load_columns(self.con)
        # Rows a load refused, with the reason, and an audit of every load.
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS quarantine (kind VARCHAR, file VARCHAR, "
            "file_sha256 VARCHAR, line BIGINT, row BIGINT, reason VARCHAR, raw VARCHAR, "
            "quarantined_at TIMESTAMPTZ)"
        )
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS loads (file VARCHAR, file_sha256 VARCHAR, kind VARCHAR, "
            "read BIGINT, loaded BIGINT, quarantined BIGINT, duplicates BIGINT, "
            "loaded_at TIMESTAMPTZ)"
        )
        self.con.execute("ALTER TABLE loads ADD COLUMN IF NOT EXISTS seq BIGINT")

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: roll back everything written inside on any error.

        Inside another transaction of this warehouse it joins that one.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self.con
            finally:
                self._depth -= 1
            return
        self.con.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
        self.con.execute("COMMIT")

    def append(self, kind: Kind, table: pa.Table, *, source: str = "append") -> int:
        """Append rows already in the data model's shape, as one load; returns the row count."""
        schema = TABLES[kind]
        for f in schema:  # optional columns the data lacks are empty
            if f.name not in table.column_names and f.nullable:
                table = table.append_column(f.name, pa.nulls(table.num_rows, f.type))
        data = table.select(schema.names).cast(schema)
        cols = ", ".join(schema.names)
        self.con.register("_incoming", data)
        try:
            with self.transaction() as con:
                seq = next_load(con)
                stamp = f", {seq}" if kind in SEQUENCED else ""
                into = f"{cols}, load_seq" if kind in SEQUENCED else cols
                con.execute(
                    f"INSERT INTO {TABLE_NAMES[kind]} ({into}) SELECT {cols}{stamp} FROM _incoming"
                )
                record_load(con, source, "", kind, (data.num_rows, data.num_rows, 0, 0), seq)
        finally:
            self.con.unregister("_incoming")
        return int(data.num_rows)

    def truncate(self) -> None:
        """Remove every exposure and event (and the incremental refresh's state)."""
        for name in TABLE_NAMES.values():
            self.con.execute(f"DELETE FROM {name}")
        for name in ("tl_state", "tl_units", "tl_frozen", "tl_frozen_index"):
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def count(self, kind: Kind) -> int:
        """Number of rows in a table."""
        row = self.con.execute(f"SELECT count(*) FROM {TABLE_NAMES[kind]}").fetchone()
        return int(row[0]) if row is not None else 0
