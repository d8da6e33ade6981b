"""Sixteen processes opening a fresh PostgreSQL registry at once: one migrates, all work."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine
from tests.registry.conftest import PG_SERVER

pytestmark = pytest.mark.slow

OPEN = (
    "import sys\n"
    "from tinylift.registry import Registry, list_teams\n"
    "with Registry(sys.argv[1]) as reg, reg.session() as s:\n"
    "    list_teams(s)\n"
    "    print(reg.current())\n"
)


def test_sixteen_processes_open_a_fresh_registry_at_once() -> None:
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    name = f"tinylift_first_use_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = f"{PG_SERVER}/{name}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN, url],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(16)
        ]
        results = [(*p.communicate(timeout=300), p.returncode) for p in procs]
        for out, err, code in results:
            assert code == 0, err
            assert "Traceback" not in err
            assert out.strip() == results[0][0].strip() != "None"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
