"""Alembic: upgrade from empty, downgrade to empty, and models == migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from tinylift.registry import Registry
from tinylift.registry.models import Base

TABLES = {
    "teams",
    "users",
    "experiments",
    "experiment_metrics",
    "phases",
    "snapshots",
    "decisions",
    "anecdotes",
    "learnings",
    "experiment_changes",
    "web_sessions",
    "api_keys",
    "alerts",
    "market_tests",
}


def _columns(reg: Registry, table: str) -> set[str]:
    return {c["name"] for c in inspect(reg.engine).get_columns(table)}


def test_upgrade_from_empty_then_downgrade_to_empty_and_back(registry_url: str) -> None:
    reg = Registry(registry_url, upgrade=False)
    try:
        assert reg.current() is None
        assert not TABLES & set(inspect(reg.engine).get_table_names())
        reg.upgrade()
        assert reg.current() == reg.head() == "0010"
        assert set(inspect(reg.engine).get_table_names()) >= TABLES
        reg.downgrade()
        assert reg.current() is None
        assert not TABLES & set(inspect(reg.engine).get_table_names())
        reg.upgrade("0001")  # step by step, and back one step
        assert "layer_start" not in {
            c["name"] for c in inspect(reg.engine).get_columns("experiments")
        }
        reg.upgrade()
        assert "layer_start" in {c["name"] for c in inspect(reg.engine).get_columns("experiments")}
        reg.downgrade("0001")
        assert reg.current() == "0001"
        reg.upgrade()
        assert reg.current() == "0010"
    finally:
        reg.close()


def test_migrations_create_exactly_the_models_tables(registry_url: str) -> None:
    with Registry(registry_url) as reg, reg.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_opening_twice_is_a_no_op(registry_url: str) -> None:
    with Registry(registry_url) as reg, reg.engine.begin() as conn:
        conn.execute(text("INSERT INTO teams (key, name, description) VALUES ('t', 'T', '')"))
    with Registry(registry_url) as again, again.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM teams")).scalar() == 1


def test_snapshots_stay_immutable_after_a_downgrade_and_upgrade(registry_url: str) -> None:
    reg = Registry(registry_url, upgrade=False)
    try:
        reg.upgrade()
        reg.downgrade("0006")  # SQLite rebuilds the table to drop a column
        reg.upgrade()
        with reg.engine.connect() as conn:
            triggers = (
                conn.execute(text("select name from sqlite_master where type = 'trigger'"))
                .scalars()
                .all()
                if reg.engine.dialect.name == "sqlite"
                else conn.execute(text("select tgname from pg_trigger where not tgisinternal"))
                .scalars()
                .all()
            )
        assert "snapshots_immutable" in triggers
    finally:
        reg.close()
