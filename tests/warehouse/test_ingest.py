"""Bulk ingestion: good rows load, bad rows are quarantined with a reason, nothing is lost."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tinylift.demo.dataset import Company
from tinylift.errors import DataError
from tinylift.warehouse import load as ingest_module
from tinylift.warehouse.load import REASONS, ingest
from tinylift.warehouse.store import Warehouse

DEFECTS = {
    "missing_event_id": {"event_id": ""},
    "missing_unit_id": {"unit_id": None},
    "bad_timestamp": {"timestamp": "yesterday-ish"},
    "timestamp_out_of_range": {"timestamp": "1899-12-31T00:00:00Z"},
    "missing_event_name": {"event_name": ""},
    "bad_event_name": {"event_name": "purchase'; drop table events; --"},
    "bad_value": {"value": "twelve"},
    "bad_properties": {"properties": "[1, 2, 3]"},
}


def rows_from(company: Company, n: int) -> list[dict[str, object]]:
    ev = company.events.slice(0, n).to_pylist()
    for r in ev:
        r["timestamp"] = r["timestamp"].isoformat()
    return ev


def with_defects(rows: list[dict[str, object]], rate: float, seed: int) -> tuple[list, dict]:
    rng = np.random.default_rng(seed)
    bad = rng.choice(len(rows), size=int(len(rows) * rate), replace=False)
    expected: dict[str, int] = {}
    out = [dict(r) for r in rows]
    codes = list(DEFECTS)
    for i, pos in enumerate(sorted(bad)):
        code = codes[i % len(codes)]
        out[pos].update(DEFECTS[code])
        expected[code] = expected.get(code, 0) + 1
    return out, expected


def write(rows: list[dict[str, object]], path: Path) -> Path:
    table = (
        pa.Table.from_pylist(
            rows,
            schema=pa.schema(
                [
                    (c, pa.string())
                    for c in (
                        "event_id",
                        "unit_id",
                        "timestamp",
                        "event_name",
                        "value",
                        "properties",
                    )
                ]
            ),
        )
        if path.suffix != ".jsonl"
        else None
    )
    if path.suffix == ".csv":
        pacsv.write_csv(table, path)
    elif path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "w.duckdb")


def count(wh: Warehouse, table: str) -> int:
    row = wh.con.execute(f"select count(*) from {table}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_five_percent_malformed_rows_are_quarantined_with_reasons(
    small_company: Company, wh: Warehouse, tmp_path: Path, suffix: str
) -> None:
    rows = rows_from(small_company, 4_000)
    for r in rows:
        r["value"] = None if r["value"] is None else str(r["value"])
    bad_rows, expected = with_defects(rows, 0.05, seed=1)
    path = write(bad_rows, tmp_path / f"events{suffix}")
    report = ingest(wh, path, "events")
    assert report.read == 4_000
    assert report.quarantined == sum(expected.values()) == 200
    assert report.reasons == dict(sorted(expected.items()))
    assert report.loaded == 3_800
    assert report.reconciles
    assert count(wh, "events") == 3_800
    assert count(wh, "quarantine") == 200
    # loading the same file again changes nothing
    again = ingest(wh, path, "events")
    assert (again.loaded, again.duplicates, again.quarantined) == (0, 3_800, 200)
    assert count(wh, "events") == 3_800
    assert count(wh, "quarantine") == 200


def test_loaded_values_survive_the_round_trip(
    small_company: Company, wh: Warehouse, tmp_path: Path
) -> None:
    rows = rows_from(small_company, 500)
    pq.write_table(small_company.events.slice(0, 500), tmp_path / "e.parquet")
    report = ingest(wh, tmp_path / "e.parquet", "events")
    assert report.loaded == 500
    got = wh.con.sql("select * from events order by event_id").to_arrow_table()
    want = small_company.events.slice(0, 500).sort_by("event_id")
    assert got.column("value").to_pylist() == want.column("value").to_pylist()
    assert got.column("timestamp").to_pylist() == want.column("timestamp").to_pylist()
    assert got.column("properties").to_pylist() == want.column("properties").to_pylist()
    assert len(rows) == 500


def test_each_reason_names_its_field() -> None:
    from tinylift.warehouse.store import TABLES

    fields = {name for schema in TABLES.values() for name in schema.names}
    assert "market" in fields  # market series are a kind too
    for code, (field, text) in REASONS.items():
        assert text, code
        assert field is None or field in fields, code


def test_exposures_of_unknown_experiments_or_variants_are_quarantined(
    wh: Warehouse, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "experiment_key,variant_key,unit_id,timestamp,country,platform\n"
        "exp-a,control,u1,2026-01-01T00:00:00Z,US,web\n"
        "exp-a,treatment,u2,2026-01-01T00:00:00Z,DE,ios\n"
        "exp-a,purple,u3,2026-01-01T00:00:00Z,DE,ios\n"
        "exp-zz,control,u4,2026-01-01T00:00:00Z,DE,ios\n"
        "exp-a,control,u1,2026-01-01T00:00:00Z,US,web\n"
    )
    report = ingest(wh, path, "exposures", experiments={"exp-a": ["control", "treatment"]})
    assert report.reasons == {"unknown_experiment": 1, "unknown_variant": 1}
    assert (report.loaded, report.duplicates) == (2, 1)
    assert report.reconciles


def test_missing_required_column_loads_nothing_and_names_it(wh: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("event_id,unit_id,event_name\n1,u1,click\n")
    with pytest.raises(DataError, match=r"e\.csv, field 'timestamp': required column missing"):
        ingest(wh, path, "events")
    assert count(wh, "events") == 0


def test_unknown_file_type_and_missing_file(wh: Warehouse, tmp_path: Path) -> None:
    (tmp_path / "e.xlsx").write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        ingest(wh, tmp_path / "e.xlsx", "events")
    with pytest.raises(DataError, match="no such file"):
        ingest(wh, tmp_path / "nope.csv", "events")


def test_a_failure_mid_load_leaves_the_warehouse_as_it_was(
    small_company: Company, wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pq.write_table(small_company.events.slice(0, 1_000), tmp_path / "a.parquet")
    ingest(wh, tmp_path / "a.parquet", "events")
    before = (count(wh, "events"), count(wh, "quarantine"), count(wh, "loads"))
    real = ingest_module._commit

    def explode(*args: object, **kwargs: object) -> object:
        real(*args, **kwargs)  # rows are inserted ...
        raise OSError("disk full")  # ... and then the load fails

    monkeypatch.setattr(ingest_module, "_commit", explode)
    pq.write_table(small_company.events.slice(1_000, 2_000), tmp_path / "b.parquet")
    with pytest.raises(OSError, match="disk full"):
        ingest(wh, tmp_path / "b.parquet", "events")
    assert (count(wh, "events"), count(wh, "quarantine"), count(wh, "loads")) == before


KILLER = """
import sys
from tinylift.warehouse.store import Warehouse
from tinylift.warehouse.load import ingest
print("start", flush=True)
ingest(Warehouse(sys.argv[1]), sys.argv[2], "events")
print("done", flush=True)
"""


def test_kill_9_during_a_load_leaves_the_warehouse_as_it_was(
    large_company: Company, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    first = tmp_path / "first.parquet"
    pq.write_table(large_company.events.slice(0, 10_000), first)
    with Warehouse(db) as wh:
        ingest(wh, first, "events")
    big = tmp_path / "big.csv"
    pacsv.write_csv(large_company.events.slice(10_000), big)  # millions of rows as text
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLER, str(db), str(big)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "start"
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, "the load finished before it could be killed"
    with Warehouse(db) as wh:
        assert count(wh, "events") == 10_000
        assert count(wh, "loads") == 1


def test_columns_beyond_the_data_model_are_kept_as_attributes_and_said(
    wh: Warehouse, tmp_path: Path
) -> None:
    f = tmp_path / "x.csv"
    f.write_text(
        "experiment_key,variant_key,unit_id,timestamp,leg_black,south,odd name\n"
        "e,control,u1,2026-03-01T00:00:00Z,1,0,x\n"
        "e,treatment,u2,2026-03-01T00:00:00Z,0,1,y\n"
    )
    report = ingest(wh, f, "exposures")
    assert report.loaded == 2
    assert report.notes == (
        "kept 2 column(s) beyond the data model as attributes: leg_black, south",
        "ignored column(s) 'odd name': a name must be letters, digits and _ (63 at most) "
        "to be kept",
    )
    stored = wh.con.execute("select unit_id, attributes from exposures order by 1").fetchall()
    assert [(u, json.loads(a)) for u, a in stored] == [
        ("u1", {"leg_black": "1", "south": "0"}),
        ("u2", {"leg_black": "0", "south": "1"}),
    ]
    lines = tmp_path / "x.jsonl"
    lines.write_text(
        '{"experiment_key":"e","variant_key":"control","unit_id":"u3",'
        '"timestamp":"2026-03-02T00:00:00Z","tier":"gold"}\n'
    )
    assert ingest(wh, lines, "exposures").notes == (
        "kept 1 column(s) beyond the data model as attributes: tier",
    )
    row = wh.con.execute("select attributes from exposures where unit_id = 'u3'").fetchone()
    assert row is not None
    assert json.loads(row[0]) == {"tier": "gold"}
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "experiment_key,variant_key,unit_id,timestamp,attributes\n"
        'e,control,u4,2026-03-02T00:00:00Z,"[1, 2]"\n'
    )
    assert ingest(wh, bad, "exposures").reasons == {"bad_attributes": 1}


def test_attributes_of_units_load_any_time_after_their_exposures(
    wh: Warehouse, tmp_path: Path
) -> None:
    f = tmp_path / "units.csv"
    f.write_text(
        "unit_id,as_of,tier,region\n"
        "u1,2026-01-01T00:00:00Z,gold,north\n"
        "u2,,silver,south\n"
        "u3,yesterday,gold,east\n"
        ",2026-01-01T00:00:00Z,gold,west\n"
    )
    report = ingest(wh, f, "units")
    assert (report.loaded, report.quarantined) == (2, 2)
    assert report.reasons == {"bad_as_of": 1, "missing_unit_id": 1}
    assert report.notes == ("kept 2 column(s) beyond the data model as attributes: tier, region",)
    rows = wh.con.execute(
        "select unit_id, as_of is null, attributes from unit_attributes order by 1"
    ).fetchall()
    assert [(u, none, json.loads(a)) for u, none, a in rows] == [
        ("u1", False, {"tier": "gold", "region": "north"}),
        ("u2", True, {"tier": "silver", "region": "south"}),
    ]
    again = ingest(wh, f, "units")  # the same file again: nothing new
    assert (again.loaded, again.duplicates) == (0, 2)
    restated = ingest(wh, f, "units", restate=True)  # history is not replaced, and it says so
    assert (restated.loaded, restated.replaced) == (0, 0)
    assert any("nothing was replaced" in n for n in restated.notes)
    empty = tmp_path / "none.csv"
    empty.write_text("unit_id\nu9\n")
    assert ingest(wh, empty, "units").reasons == {"missing_attributes": 1}


def test_a_csv_with_mixed_line_ends_quarantines_its_bad_rows_only(
    wh: Warehouse, tmp_path: Path
) -> None:
    f = tmp_path / "mixed.csv"
    f.write_bytes(
        b"event_id,unit_id,timestamp,event_name,value\r\n"
        b"e1,u1,2026-03-01T00:00:00Z,purchase,1\n"
        b"e2,u2,2026-03-01T00:00:00Z,purchase,2\r\n"
        b"e3,u3,not-a-time,purchase,3\n"
    )
    report = ingest(wh, f, "events")
    assert (report.loaded, report.quarantined) == (2, 1)
    assert report.reasons == {"bad_timestamp": 1}
    assert "mixes Windows and Unix line ends" in report.notes[-1]
    row = wh.con.execute("select file from quarantine").fetchone()
    assert row is not None
    assert row[0] == str(f)  # the user's file is named, not the copy read


def test_a_restated_file_replaces_rows_and_marks_their_units(wh: Warehouse, tmp_path: Path) -> None:
    first = tmp_path / "events.csv"
    first.write_text(
        "event_id,unit_id,timestamp,event_name,value\n"
        "e1,u1,2026-03-01T10:00:00Z,purchase,10\n"
        "e2,u2,2026-03-01T11:00:00Z,purchase,20\n"
    )
    ingest(wh, first, "events")
    fix = tmp_path / "fix.csv"
    fix.write_text(
        "event_id,unit_id,timestamp,event_name,value\n"
        "e2,u2,2026-03-01T11:00:00Z,purchase,25\n"
        "e3,u3,2026-03-02T09:00:00Z,purchase,5\n"
    )
    report = ingest(wh, fix, "events", restate=True)
    assert (report.read, report.loaded, report.replaced, report.duplicates) == (2, 2, 1, 0)
    assert report.reconciles
    values = wh.con.execute("SELECT event_id, value FROM events ORDER BY 1").fetchall()
    assert values == [("e1", 10.0), ("e2", 25.0), ("e3", 5.0)]
    seqs = wh.con.execute("SELECT event_id, load_seq FROM events ORDER BY 1").fetchall()
    assert seqs[0][1] < seqs[1][1] == seqs[2][1]  # the restated row carries its new load
    marked = wh.con.execute("SELECT DISTINCT unit_id FROM restated ORDER BY 1").fetchall()
    assert marked == [("u2",), ("u3",)]
