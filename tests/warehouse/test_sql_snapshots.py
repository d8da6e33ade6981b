"""The refresh compiles for other engines; the SQL is kept as snapshot files.

Regenerate after an intended change with ``TINYLIFT_UPDATE_SNAPSHOTS=1 pytest``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlglot

from tinylift.metrics import Catalog
from tinylift.warehouse import ExperimentWindow, compile_refresh

SNAPSHOTS = Path(__file__).parent / "snapshots"
WINDOWS = [
    ExperimentWindow(
        "price-discount-10",
        ("control", "treatment"),
        ("conversion", "revenue", "return_rate", "camera_revenue"),
        datetime(2026, 1, 31, tzinfo=UTC),
        datetime(2026, 3, 14, tzinfo=UTC),
    ),
    ExperimentWindow(
        "msg-email-subject",
        ("control", "variant_b", "variant_c"),
        ("conversion", "aov"),
        datetime(2026, 5, 21, tzinfo=UTC),
        None,
    ),
]


@pytest.mark.parametrize("dialect", ["bigquery", "snowflake", "trino", "postgres", "duckdb"])
def test_refresh_sql_matches_snapshot(dialect: str, demo_catalog: Catalog) -> None:
    sql = compile_refresh(demo_catalog, WINDOWS, dialect=dialect)
    sqlglot.parse_one(sql, read=dialect)  # valid in that dialect
    path = SNAPSHOTS / f"refresh.{dialect}.sql"
    if os.environ.get("TINYLIFT_UPDATE_SNAPSHOTS") == "1":
        path.write_text(sql + "\n")
    assert path.exists(), f"no snapshot {path.name}; run with TINYLIFT_UPDATE_SNAPSHOTS=1"
    assert sql + "\n" == path.read_text(), f"compiled SQL for {dialect} changed"
