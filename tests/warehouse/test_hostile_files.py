"""Files as people really send them: each loads, or is refused in words a person can act on."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tinylift.errors import DataError
from tinylift.warehouse.load import REASONS, ingest
from tinylift.warehouse.store import Warehouse

HEADER = "event_id,unit_id,timestamp,event_name,value\n"


def row(i: int, **over: object) -> dict[str, object]:
    return {
        "event_id": f"e{i}",
        "unit_id": f"u{i}",
        "timestamp": "2026-03-01T09:00:00Z",
        "event_name": "purchase",
        "value": 1.0,
    } | over


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "w.duckdb")


def quarantined(wh: Warehouse) -> list[tuple[object, ...]]:
    return wh.con.execute("select line, row, reason from quarantine order by line, row").fetchall()


def test_a_csv_with_excels_byte_order_mark_loads(wh: Warehouse, tmp_path: Path) -> None:
    f = tmp_path / "excel.csv"
    f.write_bytes(b"\xef\xbb\xbf" + (HEADER + "e1,u1,2026-03-01T09:00:00Z,purchase,2\n").encode())
    assert ingest(wh, f, "events").loaded == 1


def test_a_json_array_is_read_as_rows_and_said(wh: Warehouse, tmp_path: Path) -> None:
    f = tmp_path / "rows.json"
    f.write_text(json.dumps([row(1), row(2), "not a row", row(3, timestamp="soon")], indent=2))
    report = ingest(wh, f, "events")
    assert (report.loaded, report.quarantined) == (2, 2)
    assert report.reasons == {"bad_timestamp": 1, "malformed_line": 1}
    assert any("one JSON array" in n for n in report.notes)
    broken = tmp_path / "broken.json"
    broken.write_text('[{"event_id": "e1"}, {oops}]')
    with pytest.raises(DataError, match=r"broken\.json.*cannot read the JSON array") as exc:
        ingest(wh, broken, "events")
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_lines_that_are_not_utf8_are_quarantined_one_by_one(
    wh: Warehouse, tmp_path: Path, suffix: str
) -> None:
    f = tmp_path / f"latin1{suffix}"
    if suffix == ".jsonl":
        lines = [json.dumps(row(i)) for i in range(1, 5)]
        lines[1] = lines[1].replace("purchase", "caf\u00e9")
        f.write_bytes("\n".join(lines).encode("latin-1") + b"\n")
    else:
        lines = [f"e{i},u{i},2026-03-01T09:00:00Z,purchase,1" for i in range(1, 5)]
        lines[1] = lines[1].replace("purchase", "caf\u00e9")
        f.write_bytes((HEADER + "\n".join(lines) + "\n").encode("latin-1"))
    report = ingest(wh, f, "events")
    assert (report.loaded, report.quarantined) == (3, 1)
    assert report.reasons == {"not_utf8": 1}
    assert quarantined(wh) == [(2 if suffix == ".jsonl" else 3, None, "not_utf8")]
    assert "UTF-8" in REASONS["not_utf8"][1]


def test_a_line_over_two_megabytes_is_quarantined_and_the_rest_loads(
    wh: Warehouse, tmp_path: Path
) -> None:
    f = tmp_path / "big.jsonl"
    lines = [json.dumps(row(i)) for i in range(1, 6)]
    lines[2] = json.dumps(row(3, properties={"note": "x" * 2_200_000}))
    f.write_text("\n".join(lines) + "\n")
    report = ingest(wh, f, "events")
    assert (report.loaded, report.quarantined) == (4, 1)
    assert quarantined(wh) == [(3, None, "line_too_long")]
    # the lines after it keep their own numbers
    bad = tmp_path / "after.jsonl"
    bad.write_text("\n".join([lines[2], json.dumps(row(9)), "{oops", ""]) + "\n")
    ingest(wh, bad, "events")
    assert (2, None, "malformed_line") not in quarantined(wh)[1:]
    assert (3, None, "malformed_line") in quarantined(wh)


def test_a_header_naming_a_column_twice_is_refused_by_name(wh: Warehouse, tmp_path: Path) -> None:
    f = tmp_path / "twice.csv"
    f.write_text(
        "event_id,unit_id,timestamp,event_name,event_id\ne1,u1,2026-03-01T09:00:00Z,p,e2\n"
    )
    with pytest.raises(DataError, match=r"'event_id' \(columns 1 and 5\) more than once"):
        ingest(wh, f, "events")


def test_files_named_for_another_format_are_read_by_content_or_refused_plainly(
    wh: Warehouse, tmp_path: Path
) -> None:
    table = pa.Table.from_pylist([row(1), row(2)])
    disguised = tmp_path / "export.csv"
    pq.write_table(table, disguised)
    report = ingest(wh, disguised, "events")
    assert report.loaded == 2
    assert any("Parquet although named .csv" in n for n in report.notes)
    text = tmp_path / "export.parquet"
    text.write_text(HEADER + "e3,u3,2026-03-01T09:00:00Z,purchase,1\n")
    with pytest.raises(DataError, match="not a Parquet file"):
        ingest(wh, text, "events")


def test_a_timestamp_without_a_zone_is_refused_as_the_collector_refuses_it(
    wh: Warehouse, tmp_path: Path
) -> None:
    f = tmp_path / "naive.csv"
    f.write_text(
        HEADER
        + "e1,u1,2026-03-01T09:00:00,purchase,1\n"
        + "e2,u2,2026-03-01 09:00:00+01:00,purchase,1\n"
        + "e3,u3,2026-03-01T09:00:00Z,purchase,1\n"
        + "e4,u4,2026-03-01,purchase,1\n"
        + "e5,u5,2026-03-01T09:00:00-0500,purchase,1\n"
    )
    report = ingest(wh, f, "events")
    assert (report.loaded, report.reasons) == (3, {"timestamp_without_zone": 2})
    # a Parquet column typed without a zone: the column's zone is assumed, and said
    typed = tmp_path / "typed.parquet"
    pq.write_table(
        pa.table(
            {
                "event_id": ["p1"],
                "unit_id": ["u1"],
                "timestamp": pa.array([datetime(2026, 3, 1, 9)], pa.timestamp("us")),
                "event_name": ["purchase"],
            }
        ),
        typed,
    )
    report = ingest(wh, typed, "events")
    assert report.loaded == 1
    assert any("no time zone" in n and "UTC" in n for n in report.notes)
    stored = wh.con.execute("select hour(timestamp) from events where event_id = 'p1'").fetchone()
    assert stored == (9,)


def test_no_message_carries_an_invisible_character(wh: Warehouse, tmp_path: Path) -> None:
    f = tmp_path / "bom.csv"
    f.write_bytes(b"\xef\xbb\xbfevent_id,unit_id\ne1,u1\n")
    with pytest.raises(DataError) as exc:
        ingest(wh, f, "events")
    assert "\ufeff" not in str(exc.value)
    assert "have: event_id, unit_id" in str(exc.value)
