from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from importlib.resources import files

import pyarrow as pa
import pytest

from tinylift.demo.company import HOLDOUT
from tinylift.demo.dataset import Company
from tinylift.metrics import Catalog, parse_catalog
from tinylift.warehouse.contract import ExperimentWindow
from tinylift.warehouse.engine import DuckDBEngine, Engine


@pytest.fixture(scope="session")
def demo_catalog() -> Catalog:
    return parse_catalog(files("tinylift.demo").joinpath("metrics.yml").read_text())


def windows_for(
    company: Company, catalog: Catalog, keys: list[str] | None = None
) -> list[ExperimentWindow]:
    out = []
    for e in company.experiments.to_pylist():
        if e["experiment_key"] == HOLDOUT.key or (keys and e["experiment_key"] not in keys):
            continue
        variants = tuple(v["key"] for v in json.loads(e["variants"]))
        out.append(ExperimentWindow(e["experiment_key"], variants, tuple(catalog.metrics)))
    return out


@pytest.fixture
def duck(small_company: Company) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    engine.register("exposures", small_company.exposures)
    engine.register("events", small_company.events)
    yield engine
    engine.close()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.slow)])
def engine(request: pytest.FixtureRequest, small_company: Company) -> Iterator[Engine]:
    """Every engine, holding the small company as ``exposures`` and ``events``."""
    if request.param == "spark":
        yield request.getfixturevalue("spark")
        return
    duck = DuckDBEngine()
    duck.register("exposures", small_company.exposures)
    duck.register("events", small_company.events)
    yield duck
    duck.close()


def tables(engine: Engine, exposures: pa.Table, events: pa.Table) -> dict[str, str]:
    """Register data under fresh names (an engine may be shared); the refresh's table names."""
    tag = uuid.uuid4().hex[:8]
    names = {"exposures": f"exposures_{tag}", "events": f"events_{tag}"}
    engine.register(names["exposures"], exposures)
    engine.register(names["events"], events)
    return names


def engine_lacks(engine: Engine, what: str) -> None:
    """Say honestly that this engine does not have the feature under test."""
    pytest.skip(f"{engine.name} does not {what}")
