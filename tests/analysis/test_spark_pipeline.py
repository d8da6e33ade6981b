"""The whole analysis on Spark (local mode) gives the scorecards DuckDB gives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tinylift.analysis import ExperimentPlan, analyze
from tinylift.demo.company import experiments
from tinylift.demo.simulate import START
from tinylift.metrics import Catalog
from tinylift.warehouse.engine import DuckDBEngine, SparkEngine

pytestmark = pytest.mark.slow


def test_spark_and_duckdb_give_the_same_scorecards(
    spark: SparkEngine, small_engine: DuckDBEngine, catalog: Catalog
) -> None:
    specs = [s for s in experiments() if s.case in ("discount", "novelty", "srm")]
    plans = [
        ExperimentPlan.build(
            catalog,
            key=s.key,
            variants=[v.key for v in s.variants],
            weights=[v.weight for v in s.variants],
            start=START + timedelta(days=s.start_day),
            end=START + timedelta(days=s.ship_day),
            complete=True,
        )
        for s in specs
    ]
    cutoff = START + timedelta(days=365)
    a = analyze(small_engine, catalog, plans, cutoff=cutoff)
    b = analyze(spark, catalog, plans, cutoff=cutoff)
    assert not a.failures
    assert not b.failures
    for key, card in a.scorecards.items():
        other = b.scorecards[key]
        assert other.units == card.units
        assert other.recommendation == card.recommendation
        assert [c.status for c in other.checks] == [c.status for c in card.checks]
        for ra, rb in zip(card.rows, other.rows, strict=True):
            assert (ra.metric, ra.variant) == (rb.metric, rb.variant)
            for name in ("effect", "ci_low", "ci_high", "p_value"):
                x, y = getattr(ra, name), getattr(rb, name)
                assert y == pytest.approx(x, rel=1e-6, abs=1e-12), (key, ra.metric, name)
        assert len(other.over_time) == len(card.over_time)
        assert len(other.breakdowns) == len(card.breakdowns)
