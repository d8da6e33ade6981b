"""The same refresh on Spark (local mode) gives the same sufficient statistics."""

from __future__ import annotations

import numpy as np
from tests.warehouse.conftest import windows_for

from tinylift.demo.dataset import Company
from tinylift.metrics import Catalog
from tinylift.warehouse import refresh
from tinylift.warehouse.engine import DuckDBEngine, SparkEngine


def test_duckdb_and_spark_give_the_same_statistics(
    spark: SparkEngine, duck: DuckDBEngine, small_company: Company, demo_catalog: Catalog
) -> None:
    windows = windows_for(small_company, demo_catalog)[:12]
    a = refresh(duck, demo_catalog, windows, dimensions=("platform",)).experiments
    b = refresh(spark, demo_catalog, windows, dimensions=("platform",)).experiments
    compared = 0
    for key, sa in a.items():
        sb = b[key]
        assert sa.units == sb.units
        assert sa.multi_variant_units == sb.multi_variant_units
        for name, ma in sa.metrics.items():
            mb = sb.metrics[name]
            np.testing.assert_array_equal(ma.n, mb.n)
            np.testing.assert_allclose(mb.s, ma.s, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(mb.ss, ma.ss, rtol=1e-9, atol=1e-9)
            compared += 1
        for value, metrics in sa.breakdowns["platform"].items():
            for name, ma in metrics.items():
                np.testing.assert_allclose(
                    sb.breakdowns["platform"][value][name].s, ma.s, rtol=1e-9, atol=1e-9
                )
    assert compared >= 100
