"""``tinylift demo`` end to end, through the real entry point."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tinylift.cli.main import main


def test_demo_builds_a_workspace_and_returns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    code = main(["demo", "--dir", str(ws), "--users", "3000", "--seed", "4", "--no-serve"])
    assert code == 0
    out = capsys.readouterr().out
    assert "experiments" in out
    assert "events" in out
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    n_events = con.execute("select count(*) from events").fetchone()
    assert n_events is not None
    assert n_events[0] > 3000
    assert f"{n_events[0]:,}" in out
    truth = pq.read_table(ws / "demo" / "truth.parquet")
    assert truth.num_rows > 0
    assert (ws / "tinylift.yml").is_file()


def test_running_demo_twice_replaces_the_data(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    args = ["demo", "--dir", str(ws), "--users", "2000", "--no-serve"]
    assert main(args) == 0
    assert main(args) == 0
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    dupes = con.execute("select count(*) - count(distinct event_id) from events").fetchone()
    assert dupes == (0,)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--users", "-5"], "users"),
        (["--users", "0"], "users"),
        (["--seed", "abc"], "--seed"),
        (["--seed", "-3"], "seed"),
        (["--days", "0"], "days"),
    ],
)
def test_bad_parameters_give_one_line_naming_the_parameter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], names: str
) -> None:
    code = main(["demo", "--dir", str(tmp_path / "ws"), *args])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error:")
    assert names in err
    assert "Traceback" not in err
    assert not (tmp_path / "ws").exists(), "nothing is written for bad parameters"


def test_unusable_directory_gives_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(["demo", "--dir", str(blocker / "ws"), "--users", "10"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: --dir:")
    assert str(blocker) in err


def test_no_arguments_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    main([])
    assert "demo" in capsys.readouterr().out
