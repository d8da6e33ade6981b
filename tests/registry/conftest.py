"""The registry on SQLite (a file per test) and on the real PostgreSQL server.

PostgreSQL runs at 127.0.0.1:5432 with trust authentication on this machine
and in CI; a missing server fails the tests rather than skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from tinylift.registry import Registry, create_team

PG_SERVER = os.environ.get("TINYLIFT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throw-away database on the PostgreSQL server, dropped at the end."""
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    name = f"tinylift_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL is needed at {PG_SERVER} for the registry tests: {exc.orig}")
    yield f"{PG_SERVER}/{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty registry database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    url: str = request.getfixturevalue("pg_database")
    yield url
    # leave the database empty for the next test (this also exercises downgrade)
    with Registry(url, upgrade=False) as reg:
        reg.downgrade()


@pytest.fixture
def registry(registry_url: str) -> Iterator[Registry]:
    """A migrated registry with two teams."""
    with Registry(registry_url) as reg:
        with reg.session() as s:
            create_team(s, key="product", name="Product")
            create_team(s, key="sales", name="Sales")
        yield reg
