"""Shared fixtures: the simulated company at two sizes, built once per session."""

from __future__ import annotations

import pytest

from tinylift.demo.dataset import Company, generate


@pytest.fixture(scope="session")
def small_company() -> Company:
    """A few thousand units: fast, for shape and rule checks."""
    return generate(6_000, seed=11)


@pytest.fixture(scope="session")
def large_company() -> Company:
    """Large enough that true effects are estimated with useful precision."""
    return generate(200_000, seed=2026)
