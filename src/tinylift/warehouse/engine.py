"""Query engines behind one small base: DuckDB (embedded default) and Spark.

Both are Ibis backends, so one metric definition compiles for either (and
for any other SQL engine Ibis speaks). Capabilities that differ are stated
here, honestly, rather than discovered at run time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
from ibis.expr.types.relations import CachedTable

from tinylift.errors import WarehouseError

__all__ = ["DuckDBEngine", "Engine", "SparkEngine", "normalise"]


def normalise(data: pa.Table) -> pa.Table:
    """Timestamps as the data model has them: microseconds, UTC."""
    fields = []
    for f in data.schema:
        if pa.types.is_timestamp(f.type):
            f = f.with_type(pa.timestamp("us", tz="UTC"))
        fields.append(f)
    return data.cast(pa.schema(fields))


class Engine(ABC):
    """A place where exposures and events live and aggregate queries run."""

    name: ClassVar[str]
    #: The Ibis dialect name (for engine-specific functions such as JSON access).
    dialect: ClassVar[str]
    #: Percentiles are exact (DuckDB) or approximate (Spark's percentile_approx).
    exact_percentiles: ClassVar[bool]
    con: Any

    def table(self, name: str) -> ir.Table:
        """An Ibis table of the engine."""
        try:
            return self.con.table(name)
        except Exception as exc:  # each backend raises its own type
            raise WarehouseError(f"{self.name}: no table {name!r} ({exc})") from None

    def execute(self, expr: ir.Table) -> pa.Table:
        """Run an expression and return the result as Arrow."""
        try:
            return self.con.to_pyarrow(expr)
        except Exception as exc:
            raise WarehouseError(f"{self.name}: query failed: {exc}") from exc

    def cache(self, expr: ir.Table) -> ir.Table:
        """Materialise an intermediate result that several queries read."""
        return expr.cache()

    def release(self, expr: ir.Table) -> None:
        """Free what :meth:`cache` holds for ``expr`` (nothing for plain expressions)."""
        if isinstance(expr, CachedTable):
            expr.release()

    def unit_parts(self, exposures: ir.Table) -> int:
        """In how many shares of units a refresh should work (1: all at once).

        Engines that spread work over a cluster handle size themselves.
        """
        return 1

    def cache_parts(self, parts: list[ir.Table]) -> ir.Table:
        """Materialise the union of results computed for disjoint shares of units."""
        return self.cache(parts[0] if len(parts) == 1 else ibis.union(*parts))

    def compile(self, expr: ir.Table) -> str:
        """The SQL this engine would run."""
        return str(self.con.compile(expr))

    @abstractmethod
    def register(self, name: str, data: pa.Table) -> None:
        """Expose in-memory Arrow data as a table (tests, small loads)."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""


class DuckDBEngine(Engine):
    """The embedded default: a DuckDB file in the workspace, or in memory."""

    name = "duckdb"
    dialect = "duckdb"
    exact_percentiles = True

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        connection: duckdb.DuckDBPyConnection | None = None,
        read_only: bool = False,
        memory_limit: str | None = "6GB",
        exposures_per_part: int = 25_000_000,
        slice_entries: int = 1_000_000,
    ) -> None:
        #: a state rebuild of more entries than this works in slices of entry time
        #: (fewer: one pass, cheaper than a query per slice)
        self.slice_entries = slice_entries
        if exposures_per_part < 1:
            raise WarehouseError(
                f"exposures_per_part must be a positive number of exposures, "
                f"not {exposures_per_part}"
            )
        self.exposures_per_part = exposures_per_part
        if connection is None:
            try:
                connection = duckdb.connect(
                    ":memory:" if path is None else str(path), read_only=read_only
                )
            except duckdb.Error as exc:
                raise WarehouseError(f"cannot open the DuckDB warehouse {path}: {exc}") from None
        connection.execute("SET TimeZone = 'UTC'")
        if memory_limit is not None:
            connection.execute("SET memory_limit = ?", [memory_limit])
        self.raw = connection
        self.con = ibis.duckdb.from_connection(connection)

    def register(self, name: str, data: pa.Table) -> None:
        self.raw.register(name, normalise(data))

    def cache(self, expr: ir.Table) -> ir.Table:
        """A temp table holding the result (cheaper than Ibis's generic cache here)."""
        return self.cache_parts([expr])

    def unit_parts(self, exposures: ir.Table) -> int:
        """Shares of about :attr:`exposures_per_part` exposures each.

        One pass over all units needs hash tables for every entry and every
        (event, entry) pair; past a few million entries they outgrow the
        memory limit and spill to disk, which costs far more than reading the
        events once per share.
        """
        rows = int(self.con.execute(exposures.count()))
        return max(1, -(-rows // self.exposures_per_part))

    def release(self, expr: ir.Table) -> None:
        name = expr.get_name() if isinstance(expr.op(), ops.DatabaseTable) else ""
        if name.startswith("_tinylift_cache_"):
            self.raw.execute(f"DROP TABLE IF EXISTS {name}")

    def cache_parts(self, parts: list[ir.Table]) -> ir.Table:
        """One temp table, filled share by share (one share's work in memory at a time)."""
        self._n_cached = getattr(self, "_n_cached", 0) + 1
        name = f"_tinylift_cache_{self._n_cached}"
        self.raw.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {self.compile(parts[0])}")
        for part in parts[1:]:
            self.raw.execute(f"INSERT INTO {name} {self.compile(part)}")
        return self.con.table(name)

    def close(self) -> None:
        self.raw.close()


class SparkEngine(Engine):
    """Apache Spark through PySpark: local mode in tests, a cluster by configuration."""

    name = "spark"
    dialect = "pyspark"
    exact_percentiles = False

    def __init__(
        self,
        session: Any = None,
        *,
        master: str = "local[2]",
        state_dir: Path | str | None = None,
    ) -> None:
        #: where the incremental refresh keeps its state as Parquet (a directory the
        #: driver and every executor see: local mode, or a shared mount on a cluster)
        self.state_dir = None if state_dir is None else Path(state_dir)
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise WarehouseError("the Spark engine needs pyspark (pip install pyspark)") from None
        if session is None:
            session = (
                SparkSession.builder.master(master)
                .appName("tinylift")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .getOrCreate()
            )
        self.session = session
        self.con = ibis.pyspark.connect(session)

    def register(self, name: str, data: pa.Table) -> None:
        frame = self.session.createDataFrame(normalise(data).combine_chunks())
        frame.createOrReplaceTempView(name)

    def write_parquet(self, expr: ir.Table, path: Path, order_by: list[str]) -> None:
        """Write ``expr`` as a Parquet dataset at ``path``, sorted by ``order_by`` (a
        reader filtering on those columns skips the other row groups)."""
        try:
            frame = self.session.sql(self.compile(expr))
            frame.orderBy(*order_by).write.mode("error").parquet(str(path))
        except Exception as exc:
            raise WarehouseError(f"spark: cannot write {path}: {exc}") from exc

    def view_parquet(self, name: str, path: Path) -> ir.Table:
        """A Parquet dataset as a table named ``name`` in this session."""
        self.session.read.parquet(str(path)).createOrReplaceTempView(name)
        return self.con.table(name)

    def close(self) -> None:
        self.session.stop()
