"""The simulator against its own truth, measured the plain way.

Per-unit metrics are computed here with hand-written SQL (not tinylift's
warehouse), then a plain difference of means (delta method for ratio
metrics) must land within 3 standard errors of each non-zero true effect.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tinylift.demo.company import HOLDOUT, experiments
from tinylift.demo.dataset import Company

PER_UNIT_SQL = """
with entry as (
    select experiment_key, unit_id, min(timestamp) as entry_ts,
           min(variant_key) as variant_key, count(distinct variant_key) as n_variants
    from exposures group by all
), units as (
    select * from entry where n_variants = 1
)
select u.experiment_key, u.variant_key, u.unit_id,
    (count(*) filter (where e.event_name = 'purchase') > 0)::double as conversion,
    count(*) filter (where e.event_name = 'purchase')::double as orders,
    coalesce(sum(e.value) filter (where e.event_name = 'purchase'), 0) as revenue,
    count(*) filter (where e.event_name = 'return')::double as returns,
    coalesce(sum(e.value) filter (where e.event_name = 'pageview'), 0) as pages,
    count(*) filter (where e.event_name = 'click')::double as clicks,
    count(*) filter (where e.event_name = 'support_contact')::double as support_contacts
from units u
left join events e
  on e.unit_id = u.unit_id and e.timestamp >= u.entry_ts
  and (u.experiment_key = $holdout or e.timestamp < u.entry_ts + interval 14 day)
group by all
"""

RATIOS = {"aov": ("revenue", "orders"), "return_rate": ("returns", "orders")}


def _per_unit(company: Company) -> pd.DataFrame:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.register("exposures", company.exposures)
    con.register("events", company.events)
    return con.execute(PER_UNIT_SQL, {"holdout": HOLDOUT.key}).df()


def _arm_stat(df: pd.DataFrame, metric: str) -> tuple[float, float]:
    """Estimate and its variance for one arm: a mean, or a ratio by the delta method."""
    n = len(df)
    if metric in RATIOS:
        num, den = (df[c].to_numpy() for c in RATIOS[metric])
        r = num.sum() / den.sum()
        cov = np.cov(num, den)
        var = (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / (n * den.mean() ** 2)
        return r, var
    x = df[metric].to_numpy()
    return x.mean(), x.var(ddof=1) / n


@pytest.fixture(scope="module")
def z_scores(large_company: Company) -> pd.DataFrame:
    units = _per_unit(large_company)
    truth = large_company.truth.to_pandas()
    control_of = {s.key: s.variants[0].key for s in experiments()} | {HOLDOUT.key: "holdout"}
    srm = {s.key for s in experiments() if s.case == "srm"}
    rows = []
    for t in truth.itertuples():
        if t.true_abs_effect == 0 or t.experiment_key in srm:
            continue
        exp = units[units.experiment_key == t.experiment_key]
        c_est, c_var = _arm_stat(exp[exp.variant_key == control_of[t.experiment_key]], t.metric)
        v_est, v_var = _arm_stat(exp[exp.variant_key == t.variant_key], t.metric)
        se = np.sqrt(c_var + v_var)
        rows.append(
            {
                "experiment": t.experiment_key,
                "variant": t.variant_key,
                "metric": t.metric,
                "truth": t.true_abs_effect,
                "estimate": v_est - c_est,
                "se": se,
                "z": (v_est - c_est - t.true_abs_effect) / se,
            }
        )
    return pd.DataFrame(rows)


def test_every_nonzero_true_effect_is_recovered_within_3_se(z_scores: pd.DataFrame) -> None:
    assert len(z_scores) >= 40, "too few non-zero effects to say anything"
    off = z_scores[z_scores.z.abs() > 3]
    assert off.empty, f"estimates more than 3 SE from the truth:\n{off.to_string()}"


def test_errors_are_standard_normal_in_aggregate(z_scores: pd.DataFrame) -> None:
    # z-scores of correlated metrics are not independent, so only a loose
    # check on their spread: a biased or mis-scaled truth would blow it up.
    z = z_scores.z.to_numpy()
    assert abs(z.mean()) < 3 / np.sqrt(len(z)) * 2
    assert 0.5 < z.std() < 1.5


def test_big_effects_are_detected(z_scores: pd.DataFrame) -> None:
    # the discount's returns and the vanity widget's clicks are big enough to see
    rows = z_scores.set_index(["experiment", "metric"])
    for key in [("price-discount-10", "return_rate"), ("merch-rec-widget", "clicks")]:
        est, se = rows.loc[key, "estimate"], rows.loc[key, "se"]
        assert est / se > 4, key


def test_novelty_effect_decays(large_company: Company) -> None:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.register("exposures", large_company.exposures)
    con.register("events", large_company.events)
    by_day = con.execute(
        """
        with x as (
            select unit_id, variant_key, min(timestamp) entry_ts from exposures
            where experiment_key = 'home-carousel'
            group by all having count(distinct variant_key) = 1
        )
        select x.unit_id, x.variant_key,
            coalesce(sum(e.value) filter (e.timestamp < x.entry_ts + interval 3 day), 0) early,
            coalesce(sum(e.value) filter (e.timestamp >= x.entry_ts + interval 9 day), 0) late
        from x left join events e on e.unit_id = x.unit_id and e.event_name = 'pageview'
            and e.timestamp >= x.entry_ts and e.timestamp < x.entry_ts + interval 14 day
        group by all
        """
    ).df()
    lift = {}
    for period in ("early", "late"):
        t = by_day[by_day.variant_key == "treatment"][period]
        c = by_day[by_day.variant_key == "control"][period]
        lift[period] = (t.mean() / c.mean() - 1, stats.ttest_ind(t, c, equal_var=False).pvalue)
    assert lift["early"][0] > 0.05
    assert lift["early"][1] < 0.001
    assert lift["late"][0] < lift["early"][0] / 3
