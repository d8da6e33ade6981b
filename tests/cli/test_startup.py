"""The command starts fast: listing and the calculator load none of the heavy parts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "alembic", "ibis", "duckdb", "plotly", "jinja2", "pyarrow")


def loaded_after(code: str) -> dict[str, bool]:
    """Which heavy modules a fresh interpreter holds after running ``code``."""
    probe = (
        "import json, sys\n"
        f"{code}\n"
        f"print(json.dumps({{m: m in sys.modules for m in {(*HEAVY, 'scipy', 'numpy')!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_importing_the_command_line_loads_no_heavy_part() -> None:
    loaded = loaded_after("import tinylift.cli.main")
    assert not any(loaded[m] for m in HEAVY), loaded
    assert not loaded["scipy"], loaded


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["calc", "srm", "--counts", "5000,4600"], ["calc", "--help"]],
)
def test_help_and_the_srm_calculator_load_no_heavy_part(argv: list[str]) -> None:
    loaded = loaded_after(
        "from tinylift.cli.main import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({argv!r})"
    )
    assert not any(loaded[m] for m in HEAVY), loaded
    if argv[0] == "calc":
        assert not loaded["scipy"], loaded
        assert not loaded["numpy"], loaded


def test_reading_a_stored_scorecard_loads_neither_registry_nor_warehouse() -> None:
    loaded = loaded_after("import tinylift.analysis.scorecard")
    assert not any(loaded[m] for m in ("sqlalchemy", "ibis", "duckdb")), loaded


def test_every_listed_command_loads_and_has_help() -> None:
    from tinylift.cli.main import COMMANDS, load_command

    for name in COMMANDS:
        command = load_command(name)
        assert command.name == name
        assert (command.help or "").strip(), name
