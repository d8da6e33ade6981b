"""Shared fixtures: the simulated company at two sizes, built once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tinylift.demo.dataset import Company, generate
from tinylift.warehouse.engine import SparkEngine


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
