"""Definition files from a hostile or careless hand: refused fast, with one line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tinylift.cli.main import main

BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
metrics: *g
"""


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err[:500]
    assert err.startswith("error:")
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (BOMB.encode(), "aliases (*a, line 2) are not allowed"),
        (("metrics:\n" + "  " + "[" * 500 + "]" * 500 + "\n").encode(), "nested more than 50"),
        ("metrics: []\nname: caf\u00e9\n".encode("latin-1"), "not UTF-8 text"),
        (b"metrics: [\n", "not valid YAML at line"),
    ],
    ids=["alias-bomb", "deep", "latin-1", "broken"],
)
def test_a_hostile_catalog_is_refused_fast_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, needle: str
) -> None:
    f = tmp_path / "metrics.yml"
    f.write_bytes(content)
    start = time.perf_counter()
    assert main(["metrics", "validate", str(f)]) == 2
    assert time.perf_counter() - start < 30  # generous: the bomb used to take a minute
    assert needle in one_line_error(capsys)


def test_experiment_files_and_settings_are_read_the_same_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    assert main(["init", str(ws)]) == 0
    (ws / "metrics.yml").write_text(
        "metrics:\n  - {name: conversion, type: proportion, event: purchase, role: oec}\n"
    )
    capsys.readouterr()
    bomb = tmp_path / "experiments.yml"
    bomb.write_text(BOMB.replace("metrics:", "experiments:"))
    assert main(["experiments", "import", str(bomb), "--dir", str(ws)]) == 2
    assert "aliases" in one_line_error(capsys)
    (ws / "tinylift.yml").write_text(BOMB)
    assert main(["metrics", "list", "--dir", str(ws)]) == 2
    assert "aliases" in one_line_error(capsys)


def test_a_catalog_with_a_byte_order_mark_reads_as_utf8(tmp_path: Path) -> None:
    f = tmp_path / "metrics.yml"
    f.write_bytes(
        b"\xef\xbb\xbfmetrics:\n  - {name: conversion, type: proportion, event: purchase}\n"
    )
    assert main(["metrics", "validate", str(f)]) == 0


@pytest.mark.parametrize(
    ("catalog", "needle"),
    [
        ("metrics: []\n", "no metrics defined"),
        ("", "no metrics defined"),
        (
            "metrics:\n  - {name: q, type: quantile, event: purchase, quantile: 0.999999}\n",
            "field 'quantile': Input should be less than 0.98",
        ),
        (
            "metrics:\n  - {name: r, type: mean, event: purchase, filter: {c: .nan}}\n",
            "field 'filter.c': nan is not a filter value",
        ),
    ],
    ids=["empty", "blank", "quantile-out-of-range", "nan-filter"],
)
def test_catalogs_the_engine_would_choke_on_are_refused_by_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], catalog: str, needle: str
) -> None:
    f = tmp_path / "metrics.yml"
    f.write_text(catalog)
    assert main(["metrics", "validate", str(f)]) == 2
    assert needle in one_line_error(capsys)
