"""The refresh's pair cells (for the interaction scan) against pandas, on every engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.warehouse.conftest import windows_for
from tests.warehouse.test_refresh import pandas_units

from tinylift.demo.dataset import Company
from tinylift.metrics import Catalog
from tinylift.warehouse import refresh
from tinylift.warehouse.engine import DuckDBEngine, Engine

PAIRS = [
    ("price-discount-10", "pdp-gallery-video"),
    ("price-discount-10", "msg-hero-copy"),
    ("msg-email-subject", "price-subscription"),  # three arms by two
]


def pandas_entries(company: Company, key: str) -> pd.DataFrame:
    """Units seen in exactly one variant of ``key``, and that variant."""
    x = company.exposures.to_pandas()
    x = x[x.experiment_key == key]
    g = x.groupby("unit_id").variant_key.agg(["nunique", "min"]).reset_index()
    return g[g["nunique"] == 1].rename(columns={"min": "b_variant"})[["unit_id", "b_variant"]]


@pytest.fixture(scope="module")
def duck_pairs(small_company: Company, demo_catalog: Catalog) -> dict:  # type: ignore[type-arg]
    engine = DuckDBEngine()
    engine.register("exposures", small_company.exposures)
    engine.register("events", small_company.events)
    keys = sorted({k for p in PAIRS for k in p})
    windows = windows_for(small_company, demo_catalog, keys)
    out = refresh(
        engine, demo_catalog, windows, pairs=PAIRS, pair_metrics=["conversion", "revenue"]
    ).pairs
    engine.close()
    return out


def test_pair_cells_agree_with_pandas(
    duck_pairs: dict,  # type: ignore[type-arg]
    small_company: Company,
) -> None:
    for a, b in PAIRS:
        ps = duck_pairs[(a, b)]
        units = pandas_units(small_company, a).merge(pandas_entries(small_company, b), on="unit_id")
        assert units.shape[0] > 50  # the pair shares units
        cells = units.groupby(["variant_key", "b_variant"])
        counts = cells.size()
        conversion = cells.conversion.sum()
        revenue = cells.revenue.agg(lambda s: (s**2).sum())
        for i, va in enumerate(ps.variants_a):
            for j, vb in enumerate(ps.variants_b):
                cell = i * len(ps.variants_b) + j
                assert ps.counts[i, j] == counts.get((va, vb), 0)
                conv = ps.metrics["conversion"]
                assert conv.n[0, cell] == counts.get((va, vb), 0)
                assert conv.s[0, cell, 0] == pytest.approx(conversion.get((va, vb), 0.0))
                rev = ps.metrics["revenue"]
                assert rev.ss[0, cell, 0, 0] == pytest.approx(revenue.get((va, vb), 0.0), rel=1e-9)


def test_every_engine_and_every_share_of_units_gives_the_same_cells(
    engine: Engine,
    duck_pairs: dict,  # type: ignore[type-arg]
    small_company: Company,
    demo_catalog: Catalog,
) -> None:
    keys = sorted({k for p in PAIRS for k in p})
    windows = windows_for(small_company, demo_catalog, keys)
    if isinstance(engine, DuckDBEngine):  # the same work in shares of units
        engine.exposures_per_part = max(1, small_company.exposures.num_rows // 40)
    got = refresh(
        engine, demo_catalog, windows, pairs=PAIRS, pair_metrics=["conversion", "revenue"]
    ).pairs
    assert got.keys() == duck_pairs.keys()
    for key, ps in got.items():
        ref = duck_pairs[key]
        np.testing.assert_array_equal(ps.counts, ref.counts)
        for name, mo in ps.metrics.items():
            np.testing.assert_allclose(mo.s, ref.metrics[name].s, rtol=1e-9)
            np.testing.assert_allclose(mo.ss, ref.metrics[name].ss, rtol=1e-9)
