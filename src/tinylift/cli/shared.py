"""What several commands share: the workspace option, the registry, the engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from tinylift.config import Settings, load_settings
from tinylift.errors import ConfigError
from tinylift.registry import Registry
from tinylift.warehouse.engine import DuckDBEngine

DirOpt = Annotated[Path, typer.Option("--dir", help="Workspace folder.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
DEFAULT_DIR = Path("tinylift-demo")


@contextmanager
def registry(settings: Settings) -> Iterator[Registry]:
    """The workspace's registry, migrated to the newest schema."""
    reg = Registry(settings.registry)
    try:
        yield reg
    finally:
        reg.close()


@contextmanager
def engine(settings: Settings) -> Iterator[DuckDBEngine]:
    """The workspace's DuckDB warehouse, read-only (a collector may be writing)."""
    if not settings.warehouse_path.exists():
        raise ConfigError(
            f"no warehouse at {settings.warehouse_path}: load data first "
            "(tinylift ingest, or tinylift demo)",
            parameter="dir",
        )
    eng = DuckDBEngine(
        settings.warehouse_path, read_only=True, memory_limit=settings.warehouse_memory_limit
    )
    try:
        yield eng
    finally:
        eng.close()


def settings_for(dir: Path) -> Settings:
    """Settings of a workspace folder that must exist."""
    if not dir.is_dir():
        raise ConfigError(
            f"no workspace folder {dir} (create one with tinylift demo)", parameter="dir"
        )
    return load_settings(dir)


def parse_time(text: str | None, *, parameter: str) -> datetime | None:
    """A date (midnight UTC) or an ISO time; times without a zone are UTC."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{text!r} is not a date (2026-03-01) or time (2026-03-01T12:00)", parameter=parameter
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
