from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.resources import files

import pytest

from tinylift.demo.company import HOLDOUT
from tinylift.demo.dataset import Company
from tinylift.metrics import Catalog, parse_catalog
from tinylift.warehouse.engine import DuckDBEngine
from tinylift.warehouse.refresh import ExperimentWindow


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
