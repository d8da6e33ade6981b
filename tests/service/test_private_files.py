"""What tinylift writes is its user's alone, whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_workspace_files_are_private_regardless_of_the_umask(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    script = (
        "import os, sys\n"
        "os.umask(0o022)\n"  # a permissive shell
        "from tinylift.cli.main import main\n"
        "sys.exit(main(['demo', '--dir', sys.argv[1], '--users', '1500', '--no-serve']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(ws)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    seen = 0
    for path in [ws, *ws.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
        seen += 1
    assert {"tinylift.yml", "warehouse.duckdb", "registry.db"} <= {p.name for p in ws.iterdir()}
    assert seen > 5


def test_the_spool_and_its_files_are_private(tmp_path: Path) -> None:
    from tinylift.collector.spool import Spool
    from tinylift.warehouse.store import Warehouse

    old = os.umask(0o022)
    try:
        with Warehouse(tmp_path / "w.duckdb") as wh:
            spool = Spool(tmp_path / "spool", wh)
            spool.append("events", [{"event_id": "e", "unit_id": "u"}])
            spool.close()
            files = list((tmp_path / "spool").iterdir())
            assert files
            for p in [tmp_path / "spool", *files, tmp_path / "w.duckdb"]:
                assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p
    finally:
        os.umask(old)
