"""Fixtures of the analysis tests (the recorded company is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conftest import _engine

from tinylift.demo.dataset import Company
from tinylift.warehouse.engine import DuckDBEngine


@pytest.fixture
def small_engine(small_company: Company) -> Iterator[DuckDBEngine]:
    engine = _engine(small_company)
    yield engine
    engine.close()
