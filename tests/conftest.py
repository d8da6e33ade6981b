"""Shared fixtures: the simulated company at two sizes, built once per session."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest

from tinylift.demo.dataset import Company, generate
from tinylift.demo.record import RecordSummary, record_company
from tinylift.metrics import Catalog, parse_catalog
from tinylift.registry import Registry
from tinylift.warehouse.engine import DuckDBEngine, SparkEngine


@pytest.fixture(scope="session")
def small_company() -> Company:
    """A few thousand units: fast, for shape and rule checks."""
    return generate(6_000, seed=11)


@pytest.fixture(scope="session")
def large_company() -> Company:
    """Large enough that true effects are estimated with useful precision."""
    return generate(200_000, seed=2026)


@pytest.fixture(scope="session")
def spark(small_company: Company) -> Iterator[SparkEngine]:
    """Spark in local mode holding the small company (one session start for the suite)."""
    engine = SparkEngine(master="local[2]")
    engine.register("exposures", small_company.exposures)
    engine.register("events", small_company.events)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo workspace built by the real command, once (copy it before changing it)."""
    from tinylift.cli.main import main

    path = tmp_path_factory.mktemp("demo") / "ws"
    assert main(["demo", "--dir", str(path), "--users", "4000", "--seed", "5", "--no-serve"]) == 0
    return path


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return parse_catalog(files("tinylift.demo").joinpath("metrics.yml").read_text())


def _engine(company: Company) -> DuckDBEngine:
    engine = DuckDBEngine()
    engine.register("exposures", company.exposures)
    engine.register("events", company.events)
    return engine


@pytest.fixture(scope="session")
def recorded(
    large_company: Company, catalog: Catalog, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RecordSummary, Registry]]:
    """The large company through the whole pipeline into a SQLite registry."""
    path: Path = tmp_path_factory.mktemp("registry") / "registry.db"
    engine = _engine(large_company)
    with Registry(f"sqlite:///{path}") as reg:
        yield record_company(reg, engine, catalog, large_company.simulation), reg
    engine.close()
