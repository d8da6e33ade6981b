"""The simulated company registered, analysed and decided, once per session."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest

from tinylift.demo.dataset import Company
from tinylift.demo.record import RecordSummary, record_company
from tinylift.metrics import Catalog, parse_catalog
from tinylift.registry import Registry
from tinylift.warehouse.engine import DuckDBEngine


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


@pytest.fixture
def small_engine(small_company: Company) -> Iterator[DuckDBEngine]:
    engine = _engine(small_company)
    yield engine
    engine.close()
