"""The warehouse: where exposures and events live, and the refresh that aggregates them.

Parts: the contract with the analysis (:mod:`~tinylift.warehouse.contract`,
no engine imported), engines (:class:`DuckDBEngine` by default,
:class:`SparkEngine`), the embedded store and ingestion with quarantine, and
the refresh (planning, dialect helpers, query building, running).

Names are imported on first use, so ``tinylift.warehouse.contract`` can be
read without loading DuckDB or Ibis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tinylift._lazy import attach

if TYPE_CHECKING:
    from tinylift.warehouse.contract import (
        DIMENSIONS,
        ExperimentStats,
        ExperimentWindow,
        Refresh,
    )
    from tinylift.warehouse.engine import DuckDBEngine, Engine, SparkEngine
    from tinylift.warehouse.load import LoadReport, ingest
    from tinylift.warehouse.query import compile_refresh
    from tinylift.warehouse.run import refresh
    from tinylift.warehouse.store import Warehouse

__all__ = [
    "DIMENSIONS",
    "DuckDBEngine",
    "Engine",
    "ExperimentStats",
    "ExperimentWindow",
    "LoadReport",
    "Refresh",
    "SparkEngine",
    "Warehouse",
    "compile_refresh",
    "ingest",
    "refresh",
]

_WHERE = {
    "DIMENSIONS": "contract",
    "ExperimentStats": "contract",
    "ExperimentWindow": "contract",
    "Refresh": "contract",
    "DuckDBEngine": "engine",
    "Engine": "engine",
    "SparkEngine": "engine",
    "LoadReport": "load",
    "ingest": "load",
    "compile_refresh": "query",
    "refresh": "run",
    "Warehouse": "store",
}


__getattr__, __dir__ = attach(__name__, _WHERE, __all__)
