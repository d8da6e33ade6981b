"""The refresh against a direct pandas computation, and its invariants."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from tests.warehouse.conftest import engine_lacks, tables, windows_for

from tinylift.demo.dataset import Company
from tinylift.metrics import Catalog, parse_catalog
from tinylift.warehouse import ExperimentWindow, refresh
from tinylift.warehouse.engine import DuckDBEngine, Engine

DAY = pd.Timedelta(days=1)


def pandas_units(company: Company, key: str) -> pd.DataFrame:
    """Per-unit demo metrics for one experiment, computed with pandas alone."""
    x = company.exposures.to_pandas()
    x = x[x.experiment_key == key]
    entry = (
        x.groupby("unit_id")
        .agg(
            entry_ts=("timestamp", "min"),
            n_var=("variant_key", "nunique"),
            variant_key=("variant_key", "min"),
        )
        .reset_index()
    )
    entry = entry[entry.n_var == 1]
    ev = company.events.to_pandas()
    ev = ev[ev.unit_id.isin(entry.unit_id)].merge(entry, on="unit_id")
    post = (ev.timestamp >= ev.entry_ts) & (ev.timestamp < ev.entry_ts + 14 * DAY)
    pre = (ev.timestamp >= ev.entry_ts - 28 * DAY) & (ev.timestamp < ev.entry_ts)
    camera = ev.properties.fillna("").str.contains('"category": "camera"')
    cols = {
        "purchases": post & (ev.event_name == "purchase"),
        "pre_purchases": pre & (ev.event_name == "purchase"),
        "returns": post & (ev.event_name == "return"),
    }
    agg = pd.DataFrame({"unit_id": ev.unit_id})
    for name, mask in cols.items():
        agg[name] = mask.astype(float)
    agg["revenue"] = np.where(post & (ev.event_name == "purchase"), ev.value, 0.0)
    agg["pre_revenue"] = np.where(pre & (ev.event_name == "purchase"), ev.value, 0.0)
    agg["camera"] = np.where(post & (ev.event_name == "purchase") & camera, ev.value, 0.0)
    per = agg.groupby("unit_id").sum().reset_index()
    out = entry.merge(per, on="unit_id", how="left").fillna(0.0)
    out["conversion"] = (out.purchases > 0).astype(float)
    out["pre_conversion"] = (out.pre_purchases > 0).astype(float)
    return out


@pytest.mark.parametrize("key", ["price-discount-10", "msg-email-subject", "pdp-gallery-video"])
def test_refresh_agrees_with_pandas(
    engine: Engine, small_company: Company, demo_catalog: Catalog, key: str
) -> None:
    res = refresh(engine, demo_catalog, windows_for(small_company, demo_catalog, [key]))
    stats = res.experiments[key]
    ref = pandas_units(small_company, key)
    for v, variant in enumerate(stats.variants):
        u = ref[ref.variant_key == variant]
        assert stats.units[variant] == len(u)
        conv = stats.metrics["conversion"]
        assert conv.n[0, v] == len(u)
        np.testing.assert_allclose(conv.s[0, v], [u.conversion.sum(), u.pre_conversion.sum()])
        np.testing.assert_allclose(conv.ss[0, v, 0, 1], (u.conversion * u.pre_conversion).sum())
        rev = stats.metrics["revenue"]
        np.testing.assert_allclose(rev.s[0, v], [u.revenue.sum(), u.pre_revenue.sum()], rtol=1e-9)
        np.testing.assert_allclose(rev.ss[0, v, 0, 0], (u.revenue**2).sum(), rtol=1e-9)
        np.testing.assert_allclose(rev.ss[0, v, 0, 1], (u.revenue * u.pre_revenue).sum(), rtol=1e-9)
        rr = stats.metrics["return_rate"]
        np.testing.assert_allclose(rr.s[0, v], [u.returns.sum(), u.purchases.sum()])
        np.testing.assert_allclose(rr.ss[0, v, 0, 1], (u.returns * u.purchases).sum())
        cam = stats.metrics["camera_revenue"]
        np.testing.assert_allclose(cam.s[0, v, 0], u.camera.sum(), rtol=1e-9)


def test_multi_variant_units_are_excluded_and_counted(
    engine: Engine, small_company: Company, demo_catalog: Catalog
) -> None:
    ex = small_company.exposures.to_pandas()
    key = "price-discount-10"
    rows = ex[(ex.experiment_key == key)].drop_duplicates("unit_id").head(3).copy()
    rows["variant_key"] = np.where(rows.variant_key == "control", "treatment", "control")
    rows["timestamp"] = rows.timestamp + pd.Timedelta(hours=1)
    names = tables(
        engine,
        pa.Table.from_pandas(pd.concat([ex, rows]), preserve_index=False),
        small_company.events,
    )
    w = windows_for(small_company, demo_catalog, [key])
    before = refresh(engine, demo_catalog, w).experiments[key]
    after = refresh(engine, demo_catalog, w, **names).experiments[key]
    assert after.multi_variant_units == before.multi_variant_units + 3
    assert sum(after.units.values()) == sum(before.units.values()) - 3


def test_one_scan_for_many_equals_each_alone(
    engine: Engine, small_company: Company, demo_catalog: Catalog
) -> None:
    all_w = windows_for(small_company, demo_catalog)
    together = refresh(engine, demo_catalog, all_w).experiments
    for w in all_w[:: max(1, len(all_w) // 4)]:
        alone = refresh(engine, demo_catalog, [w]).experiments[w.key]
        for name, mo in alone.metrics.items():
            np.testing.assert_allclose(together[w.key].metrics[name].s, mo.s, rtol=1e-12)
            np.testing.assert_allclose(together[w.key].metrics[name].ss, mo.ss, rtol=1e-12)


def test_breakdowns_and_days_add_up_to_the_total(
    engine: Engine, small_company: Company, demo_catalog: Catalog
) -> None:
    key = "price-discount-10"
    w = windows_for(small_company, demo_catalog, [key])
    stats = refresh(engine, demo_catalog, w, dimensions=("country", "platform"), by_day=True)
    s = stats.experiments[key]
    for dim in ("country", "platform"):
        parts = list(s.breakdowns[dim].values())
        total = parts[0]["revenue"]
        for p in parts[1:]:
            total = total + p["revenue"]
        np.testing.assert_allclose(total.s, s.metrics["revenue"].s, rtol=1e-9)
    _, cumulative = s.daily[-1]
    np.testing.assert_allclose(cumulative["orders"].n, s.metrics["orders"].n)
    days = [d for d, _ in s.daily]
    assert days == sorted(days)
    ns = [m["orders"].n.sum() for _, m in s.daily]
    assert ns == sorted(ns)


def test_experiment_dates_limit_exposures_and_events(
    engine: Engine, small_company: Company, demo_catalog: Catalog
) -> None:
    key = "price-discount-10"
    full = windows_for(small_company, demo_catalog, [key])[0]
    ex = small_company.exposures.to_pandas()
    ts = ex[ex.experiment_key == key].timestamp.sort_values()
    cutoff = ts.iloc[len(ts) // 2].to_pydatetime()
    half = ExperimentWindow(full.key, full.variants, full.metrics, end=cutoff)
    a = refresh(engine, demo_catalog, [full]).experiments[key]
    b = refresh(engine, demo_catalog, [half]).experiments[key]
    assert 0.4 < sum(b.units.values()) / sum(a.units.values()) < 0.6
    assert b.metrics["orders"].s[0, :, 0].sum() < a.metrics["orders"].s[0, :, 0].sum()


def test_absolute_and_percentile_caps(engine: Engine, small_company: Company) -> None:
    cat = parse_catalog(
        """
metrics:
  - {name: rev, type: mean, event: purchase, value: value}
  - {name: rev_abs, type: mean, event: purchase, value: value, cap: {absolute: 50}}
  - {name: rev_p90, type: mean, event: purchase, value: value, cap: {percentile: 0.9}}
"""
    )
    key = "price-discount-10"
    w = [ExperimentWindow(key, ("control", "treatment"), ("rev", "rev_abs", "rev_p90"))]
    s = refresh(engine, cat, w).experiments[key].metrics
    ref = pandas_units(small_company, key)
    for v, variant in enumerate(("control", "treatment")):
        u = ref[ref.variant_key == variant].revenue
        assert s["rev_abs"].s[0, v, 0] == pytest.approx(np.minimum(u, 50).sum())
    positive = ref.revenue[ref.revenue > 0]
    capped = s["rev_p90"].s[0, :, 0].sum()
    if engine.exact_percentiles:
        both = np.minimum(ref.revenue, np.quantile(positive, 0.9)).sum()
        assert capped == pytest.approx(both, rel=1e-9)
    else:  # an approximate percentile lies between nearby exact ones
        lo, hi = (np.minimum(ref.revenue, np.quantile(positive, q)).sum() for q in (0.88, 0.92))
        assert lo <= capped <= hi
    assert s["rev_p90"].s[0, :, 0].sum() < s["rev"].s[0, :, 0].sum()


def test_hostile_filter_value_is_only_data(engine: Engine) -> None:
    cat = parse_catalog(
        """
metrics:
  - {name: x, type: mean, event: purchase, value: value, filter: {category: "') OR 1=1 --"}}
  - {name: y, type: mean, event: "purchase", value: value, filter: {category: "camera' --"}}
"""
    )
    w = [ExperimentWindow("price-discount-10", ("control", "treatment"), ("x", "y"))]
    s = refresh(engine, cat, w).experiments["price-discount-10"].metrics
    assert s["x"].s.sum() == 0
    assert s["y"].s.sum() == 0
    assert int(engine.con.execute(engine.table("events").count())) > 0


def test_quantile_metrics_match_numpy_and_feed_the_quantile_test(
    engine: Engine, small_company: Company
) -> None:
    from tinylift.stats.quantile import quantile_test
    from tinylift.warehouse.contract import QUANTILE_DELTA

    cat = parse_catalog(
        """
metrics:
  - {name: rev, type: mean, event: purchase, value: value}
  - {name: rev_p90, type: quantile, event: purchase, value: value, quantile: 0.9}
"""
    )
    key = "price-discount-10"
    w = [ExperimentWindow(key, ("control", "treatment"), ("rev", "rev_p90"))]
    s = refresh(engine, cat, w).experiments[key]
    assert set(s.metrics) == {"rev"}
    qs = s.quantiles["rev_p90"]
    ref = pandas_units(small_company, key)
    for v, variant in enumerate(("control", "treatment")):
        x = ref[ref.variant_key == variant].revenue.to_numpy()
        assert qs.n[v] == len(x)
        for arr, level in (
            (qs.lower, 0.9 - QUANTILE_DELTA),
            (qs.value, 0.9),
            (qs.upper, 0.9 + QUANTILE_DELTA),
        ):
            if engine.exact_percentiles:
                assert arr[v] == pytest.approx(np.quantile(x, level), rel=1e-9)
            else:  # approximate: between the exact quantiles a little either side
                lo, hi = np.quantile(x, [level - 0.01, min(level + 0.01, 1.0)])
                assert lo - 1e-9 <= arr[v] <= hi + 1e-9
    r = quantile_test(qs).to_dict()
    assert r["method"] == "quantile"
    assert np.isfinite(r["p_value"])


PERCENTILE_METRICS = """
  - {name: rev_p90cap, type: mean, event: purchase, value: value, cap: {percentile: 0.9}}
  - {name: rev_q90, type: quantile, event: purchase, value: value, quantile: 0.9}
"""


@pytest.mark.parametrize("percentiles", [False, True], ids=["shares-added", "shares-gathered"])
def test_a_refresh_in_shares_of_units_equals_one_pass(
    engine: Engine, small_company: Company, demo_catalog: Catalog, percentiles: bool
) -> None:
    """Big data is refreshed in shares of units (memory); the statistics must not change.

    Sums are added share by share; percentiles (caps, quantile metrics) need
    every unit, so then the shares are gathered in one table first.
    """
    if not isinstance(engine, DuckDBEngine):
        engine_lacks(engine, "work in shares of units (it spreads one pass over partitions)")
    text = files("tinylift.demo").joinpath("metrics.yml").read_text()
    catalog = parse_catalog(text + (PERCENTILE_METRICS if percentiles else ""))
    metrics = tuple(catalog.metrics)
    assert ("rev_q90" in metrics) == percentiles
    ex = small_company.exposures.to_pandas()
    # three units seen in both variants, so the shares must count them too
    key = "price-discount-10"
    rows = ex[(ex.experiment_key == key)].drop_duplicates("unit_id").head(3).copy()
    rows["variant_key"] = np.where(rows.variant_key == "control", "treatment", "control")
    exposures = pa.Table.from_pandas(pd.concat([ex, rows]), preserve_index=False)
    windows = [
        ExperimentWindow(w.key, w.variants, tuple(metrics))
        for w in windows_for(small_company, demo_catalog)
    ]
    results = []
    for per_part in (10**9, len(ex) // 3 + 1):
        engine = DuckDBEngine(exposures_per_part=per_part)
        engine.register("exposures", exposures)
        engine.register("events", small_company.events)
        parts = engine.unit_parts(engine.table("exposures"))
        assert parts == 1 if per_part > len(exposures) else parts > 1
        results.append(
            refresh(engine, catalog, windows, dimensions=("country",), by_day=True).experiments
        )
        engine.close()
    one, shares = results
    assert one[key].multi_variant_units >= 3
    for k, a in one.items():
        b = shares[k]
        assert (a.units, a.multi_variant_units) == (b.units, b.multi_variant_units)
        for name, mo in a.metrics.items():
            np.testing.assert_allclose(b.metrics[name].s, mo.s, rtol=1e-9)
            np.testing.assert_allclose(b.metrics[name].ss, mo.ss, rtol=1e-9)
        if percentiles:
            np.testing.assert_allclose(b.quantiles["rev_q90"].value, a.quantiles["rev_q90"].value)
        assert a.breakdowns["country"].keys() == b.breakdowns["country"].keys()
        for country, ms in a.breakdowns["country"].items():
            got = b.breakdowns["country"][country]["revenue"]
            np.testing.assert_allclose(got.s, ms["revenue"].s)
        assert [d for d, _ in a.daily] == [d for d, _ in b.daily]


def test_a_share_size_below_one_is_refused_by_name(engine: Engine) -> None:
    from tinylift.errors import WarehouseError

    if not isinstance(engine, DuckDBEngine):
        engine_lacks(engine, "take a share size")
    with pytest.raises(WarehouseError, match="exposures_per_part must be a positive"):
        DuckDBEngine(exposures_per_part=0)


def test_breakdowns_by_any_attribute_of_the_exposures(
    engine: Engine, small_company: Company, demo_catalog: Catalog
) -> None:
    key = "price-discount-10"
    ex = small_company.exposures.to_pandas()
    tier = np.where(
        ex.unit_id.str[-1].isin(list("01234")), '{"tier": "gold"}', '{"tier": "silver"}'
    )
    ex["attributes"] = np.where(ex.index % 10 == 0, None, tier)  # some units have none
    names = tables(engine, pa.Table.from_pandas(ex, preserve_index=False), small_company.events)
    w = windows_for(small_company, demo_catalog, [key])
    s = refresh(engine, demo_catalog, w, dimensions=("tier", "platform"), **names).experiments[key]
    segments = s.breakdowns["tier"]
    assert set(segments) <= {"gold", "silver", "unknown"}
    assert {"gold", "silver"} <= set(segments)
    total = sum(m["revenue"].n.sum() for m in segments.values())
    assert total == s.metrics["revenue"].n.sum()
    parts = list(segments.values())
    summed = parts[0]["revenue"]
    for p in parts[1:]:
        summed = summed + p["revenue"]
    np.testing.assert_allclose(summed.s, s.metrics["revenue"].s, rtol=1e-9)
    assert set(s.breakdowns["platform"]) == set(ex.platform.dropna()) & set(
        s.breakdowns["platform"]
    )


def test_a_dimension_must_be_a_plain_name(engine: Engine, demo_catalog: Catalog) -> None:
    from tinylift.errors import ConfigError

    w = [ExperimentWindow("price-discount-10", ("control", "treatment"), ("conversion",))]
    with pytest.raises(ConfigError, match="not a dimension name"):
        refresh(engine, demo_catalog, w, dimensions=("tier'); drop table events; --",))


def test_attributes_of_units_loaded_later_as_known_at_entry(
    engine: Engine, small_company: Company, demo_catalog: Catalog
) -> None:
    key = "price-discount-10"
    ex = small_company.exposures.to_pandas()
    entry = ex[ex.experiment_key == key].groupby("unit_id").timestamp.min()
    units = entry.index.to_numpy()
    before, after = entry - pd.Timedelta(days=1), entry + pd.Timedelta(days=1)
    gold = np.arange(len(units)) % 3 == 0
    rows = pd.concat(
        [
            # known before entry: the segment
            pd.DataFrame(
                {
                    "unit_id": units,
                    "as_of": before.to_numpy(),
                    "attributes": np.where(gold, '{"tier": "gold"}', '{"tier": "silver"}'),
                }
            ),
            # a change after entry (perhaps caused by the experiment) moves no one
            pd.DataFrame(
                {"unit_id": units, "as_of": after.to_numpy(), "attributes": '{"tier": "platinum"}'}
            ),
        ]
    )
    name = f"unit_attributes_{abs(hash(engine.name)) % 1000}"
    engine.register(name, pa.Table.from_pandas(rows, preserve_index=False))
    w = windows_for(small_company, demo_catalog, [key])
    s = refresh(engine, demo_catalog, w, dimensions=("tier",), unit_attributes=name)
    segments = s.experiments[key].breakdowns["tier"]
    assert set(segments) <= {"gold", "silver", "unknown"}
    n_gold = sum(segments["gold"]["orders"].n.ravel())
    n_all = s.experiments[key].metrics["orders"].n.sum()
    assert 0.28 < n_gold / n_all < 0.38
