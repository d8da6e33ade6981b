"""``tinylift metrics``, ``ingest`` and ``refresh`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tinylift.cli.main import main
from tinylift.demo.dataset import Company


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("ws")
    assert main(["demo", "--dir", str(ws), "--users", "8000", "--seed", "3", "--no-serve"]) == 0
    return ws


def test_metrics_list_show_validate(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", "list", "--dir", str(workspace)]) == 0
    assert "return_rate" in capsys.readouterr().out
    assert main(["metrics", "show", "return_rate", "--dir", str(workspace)]) == 0
    text = capsys.readouterr().out
    assert "guardrail" in text
    assert "returns / orders" in text
    assert main(["metrics", "validate", str(workspace)]) == 0
    assert "ok" in capsys.readouterr().out


def test_metrics_validate_reports_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "metrics.yml").write_text(
        "metrics:\n  - {name: r, type: mean, event: return, role: guardrail}\n"
    )
    assert main(["metrics", "validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "metric 'r'" in err
    assert "margin" in err


def test_unknown_metric_is_one_line(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", "show", "revnue", "--dir", str(workspace)]) == 2
    assert "did you mean revenue" in capsys.readouterr().err


def test_refresh_json_covers_every_experiment(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["refresh", "--dir", str(workspace), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) >= 40
    gallery = next(r for r in rows if r["experiment"] == "pdp-gallery-video")
    assert set(gallery["units"]) == {"control", "treatment"}
    assert any(m["metric"] == "conversion" for m in gallery["metrics"])


def test_refresh_of_an_unknown_experiment(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["refresh", "no-such-test", "--dir", str(workspace)]) == 2
    assert "no-such-test" in capsys.readouterr().err


def test_ingest_prints_reconciled_counts(
    tmp_path: Path, small_company: Company, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    assert main(["demo", "--dir", str(ws), "--users", "500", "--no-serve"]) == 0
    capsys.readouterr()
    path = tmp_path / "more.csv"
    path.write_text(
        "event_id,unit_id,timestamp,event_name,value\n"
        "x1,u1,2026-03-01T10:00:00Z,purchase,12.5\n"
        "x2,u1,not-a-time,purchase,3\n"
    )
    assert main(["ingest", str(path), "--kind", "events", "--dir", str(ws)]) == 0
    text = capsys.readouterr().out
    assert "read" in text
    assert "bad_timestamp" in text
    pq.write_table(small_company.exposures.slice(0, 100), tmp_path / "x.parquet")
    assert (
        main(["ingest", str(tmp_path / "x.parquet"), "--kind", "exposures", "--dir", str(ws)]) == 0
    )
    assert main(["ingest", str(path), "--kind", "clicks", "--dir", str(ws)]) == 2


def test_refresh_brings_its_state_forward_and_full_rebuilds_it(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def states(*extra: str) -> set[str]:
        assert main(["refresh", "--dir", str(workspace), "--json", *extra]) == 0
        return {r["state"] for r in json.loads(capsys.readouterr().out)}

    states()
    # a late purchase of a unit in every experiment, restating one event sent before
    path = tmp_path / "late.csv"
    path.write_text(
        "event_id,unit_id,timestamp,event_name,value\nlate-1,u1,2026-03-01T10:00:00Z,purchase,9\n"
    )
    assert main(["ingest", str(path), "--kind", "events", "--dir", str(workspace)]) == 0
    path.write_text(
        "event_id,unit_id,timestamp,event_name,value\nlate-1,u1,2026-03-01T10:00:00Z,purchase,19\n"
    )
    capsys.readouterr()
    args = ["ingest", str(path), "--kind", "events", "--dir", str(workspace), "--restate"]
    assert main(args) == 0
    assert "replaced (restated)" in capsys.readouterr().out
    assert states() == {"brought forward"}
    assert states("--full") == {"rebuilt"}
