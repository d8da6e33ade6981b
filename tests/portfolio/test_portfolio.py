"""The portfolio on programs whose truth is known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tinylift.portfolio import MetricInfo, Record, Row, build, cumulative_impact, program_health

START = datetime(2026, 1, 5, tzinfo=UTC)
METRICS = [
    MetricInfo("conversion", "oec", value_per_unit=95.0),
    MetricInfo("return_rate", "guardrail", lower_is_better=True),
    MetricInfo("clicks", "secondary"),
]


def simulated_program(
    rng: np.random.Generator, n: int = 60, teams: tuple[str, ...] = ("growth", "checkout")
) -> tuple[list[Record], dict[str, float]]:
    """Experiments with known true effects on the OEC; the significant winners ship."""
    records, truth = [], {}
    for i in range(n):
        se = rng.uniform(0.001, 0.003)
        true = 0.0 if rng.random() < 0.6 else rng.standard_t(3) * 0.002
        est = true + se * rng.standard_normal()
        sig = abs(est) > 1.96 * se
        verdict = ("better" if est > 0 else "worse") if sig else "inconclusive"
        ship = sig and est > 0
        started = START + timedelta(days=int(rng.integers(0, 300)))
        rows = (
            Row("conversion", "treatment", est, est - 1.96 * se, est + 1.96 * se,
                est / 0.1, se / 0.1, verdict, sig, False),
            Row("return_rate", "treatment", 0.0, -0.01, 0.01, 0.0, 0.05, "inconclusive", False,
                True),
        )  # fmt: skip
        key = f"exp-{i}"
        records.append(
            Record(
                key=key,
                team=teams[i % len(teams)],
                area="pricing" if i % 3 else "onboarding",
                status="decided",
                started_at=started,
                stopped_at=started + timedelta(days=21),
                decided_at=started + timedelta(days=int(rng.integers(21, 40))),
                outcome="ship" if ship else "abandon",
                shipped_variant="treatment" if ship else None,
                oec="conversion",
                planned_mde=0.02,
                rows=rows,
            )
        )
        truth[key] = true
    return records, truth


def test_the_corrected_total_covers_the_truth_while_the_naive_sum_overstates_it() -> None:
    rng = np.random.default_rng(16)
    covered, naive_over = 0, 0
    programs = 60
    for _ in range(programs):
        records, truth = simulated_program(rng)
        impact = cumulative_impact(records, METRICS, n_boot=400)
        oec = next(m for m in impact if m["metric"] == "conversion")
        true_total = sum(truth[r.key] for r in records if r.shipped)
        c = oec["corrected"]
        covered += c["ci_low"] <= true_total <= c["ci_high"]
        naive_over += oec["naive"] > true_total
    # 60 programs: 95 % coverage within 3 Monte Carlo SE; the naive sum too high most times
    assert abs(covered / programs - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / programs)
    assert naive_over / programs > 0.75


def test_impact_is_in_metric_units_and_money_and_compounds_in_ship_order() -> None:
    records, _ = simulated_program(np.random.default_rng(3))
    oec = next(m for m in cumulative_impact(records, METRICS) if m["metric"] == "conversion")
    shipped = [r for r in records if r.shipped]
    assert oec["shipped"] == len(shipped) > 0
    assert oec["naive"] == pytest.approx(sum(r.row("conversion").effect for r in shipped))  # type: ignore[union-attr]
    assert oec["money"]["naive"] == pytest.approx(95.0 * oec["naive"])
    dates = [t["date"] for t in oec["timeline"]]
    assert dates == sorted(dates)
    expected = np.prod([1 + t["rel_effect"] for t in oec["timeline"]]) - 1
    assert oec["timeline"][-1]["compounded_rel"] == pytest.approx(expected)
    # a guardrail nothing was shipped on gets the shrunk total only
    guard = next(m for m in cumulative_impact(records, METRICS) if m["metric"] == "return_rate")
    assert guard["corrected"] is None
    assert guard["shrunk"] is not None
    assert all(m["metric"] != "clicks" for m in cumulative_impact(records, METRICS))


def test_with_fewer_than_five_decided_experiments_it_says_so() -> None:
    records, _ = simulated_program(np.random.default_rng(4), n=4)
    oec = next(m for m in cumulative_impact(records, METRICS) if m["metric"] == "conversion")
    assert oec["corrected"] is None
    assert oec["shrunk"] is None
    assert "too few" in oec["note"]


def test_program_health_by_team_and_quarter() -> None:
    records, _ = simulated_program(np.random.default_rng(5))
    teams = program_health(records, by="team")
    assert [t["team"] for t in teams] == ["checkout", "growth"]
    assert sum(t["decided"] for t in teams) == len(records)
    overall = program_health(records, by="all")[0]
    verdicts = [r.row("conversion").verdict for r in records]  # type: ignore[union-attr]
    assert overall["win_rate"] == pytest.approx(verdicts.count("better") / len(records))
    assert overall["learning_rate"] == pytest.approx(
        (verdicts.count("better") + verdicts.count("worse") + verdicts.count("flat")) / len(records)
    )
    # rel_se 0.01-0.03 against a planned 2 % MDE: (1.96 + 0.84) * rel_se > 0.02 for most
    assert 0.5 < overall["underpowered_share"] <= 1.0
    quarters = program_health(records, by="quarter")
    assert all(q["quarter"].startswith("2026-Q") for q in quarters)
    assert 0 <= overall["false_positive_risk"] <= 1


def test_a_program_that_wins_too_often_is_told_so() -> None:
    records, _ = simulated_program(np.random.default_rng(6), n=10)
    bold = [
        Record(**{**r.__dict__, "rows": tuple(
            Row(**{**row.__dict__, "verdict": "better", "significant": True}) for row in r.rows
        )})
        for r in records
    ]  # fmt: skip
    assert "too safe" in program_health(bold, by="all")[0]["note"]


def test_the_portfolio_is_one_result_for_json_page_and_python() -> None:
    records, _ = simulated_program(np.random.default_rng(7))
    a = build(records, METRICS, seed=1).to_dict()
    b = build(records, METRICS, seed=1).to_dict()
    assert a == b
    assert a["shared_metrics"] == ["conversion", "return_rate"]
    assert {"overall", "by_team", "by_area", "by_quarter", "impact"} <= set(a)


def _with_rows(r: Record, *rows: Row) -> Record:
    return Record(**{**r.__dict__, "rows": r.rows + rows})


def test_a_team_whose_win_hurt_a_guardrail_is_flagged_and_others_are_not() -> None:
    rng = np.random.default_rng(8)
    records, _ = simulated_program(rng, n=40)
    # a discount: conversion up, returns up (significantly), shipped by sales
    discount = Record(
        key="price-discount-10", team="sales", area="pricing", status="decided",
        started_at=START, stopped_at=START + timedelta(days=28),
        decided_at=START + timedelta(days=30), outcome="ship", shipped_variant="treatment",
        oec="conversion",
        rows=(
            Row("conversion", "treatment", 0.006, 0.004, 0.008, 0.06, 0.01, "better", True, False),
            Row("return_rate", "treatment", 0.012, 0.006, 0.018, 0.1, 0.025, "worse", True, True),
        ),
    )  # fmt: skip
    metrics = [*METRICS, MetricInfo("revenue", "secondary", team="sales")]
    result = build([*records, discount], metrics).alignment
    flagged = {(c["experiment"], c["hurt"]) for c in result["conflicts"]}
    assert flagged == {("price-discount-10", "return_rate")}
    assert result["net"]["sales"]["return_rate"]["effect"] == pytest.approx(0.012)
    assert result["tested"] > 1  # the other ships were tested too, and not flagged


def test_the_vanity_metric_is_flagged_by_metric_quality() -> None:
    rng = np.random.default_rng(9)
    records, _ = simulated_program(rng, n=60)
    with_clicks = []
    for r in records:
        eng = rng.normal(0, 0.05) if rng.random() < 0.5 else 0.0  # engagement moves a lot
        est = eng + 0.01 * rng.standard_normal()
        sig = abs(est) > 0.0196
        verdict = ("better" if est > 0 else "worse") if sig else "inconclusive"
        clicks = Row("clicks", "treatment", est * 3, (est - 0.0196) * 3, (est + 0.0196) * 3,
                     est, 0.01, verdict, sig, False)  # fmt: skip
        # revenue tracks conversion (same true effect, its own noise)
        conv = r.rows[0]
        rev_est = conv.rel_effect + 0.01 * rng.standard_normal()  # type: ignore[operator]
        rsig = abs(rev_est) > 0.0196
        rv = ("better" if rev_est > 0 else "worse") if rsig else "inconclusive"
        rev = Row("revenue", "treatment", rev_est * 12, (rev_est - 0.0196) * 12,
                  (rev_est + 0.0196) * 12, rev_est, 0.01, rv, rsig, False)  # fmt: skip
        with_clicks.append(_with_rows(r, clicks, rev))
    metrics = [*METRICS, MetricInfo("revenue", "secondary")]
    quality = {q["metric"]: q for q in build(with_clicks, metrics).metric_quality}
    assert quality["clicks"]["vanity"]
    assert not quality["revenue"]["vanity"]
    assert quality["revenue"]["correlation"] > 0.5
    assert quality["clicks"]["sensitivity"] > quality["return_rate"]["sensitivity"]
    # the same behaviour in a guardrail is what a guardrail is for: not flagged
    guard = [MetricInfo("clicks", "guardrail") if m.name == "clicks" else m for m in metrics]
    guarded = {q["metric"]: q for q in build(with_clicks, guard).metric_quality}
    assert guarded["clicks"]["moved_without_oec"] == quality["clicks"]["moved_without_oec"]
    assert not guarded["clicks"]["vanity"]


def test_the_holdout_reconciles_with_the_corrected_total_or_is_flagged() -> None:
    rng = np.random.default_rng(10)
    records, truth = simulated_program(rng)
    true_total = sum(truth[r.key] for r in records if r.shipped)

    def holdout(effect: float) -> Record:
        row = Row("conversion", "general", effect, effect - 0.004, effect + 0.004, None, None,
                  "inconclusive", False, False)  # fmt: skip
        return Record(key="holdout-2026", team="growth", area="other", status="running",
                      started_at=START, stopped_at=None, kind="holdout", rows=(row,))  # fmt: skip

    agrees = build([*records, holdout(true_total)], METRICS).holdout
    assert [h["metric"] for h in agrees] == ["conversion"]
    assert not agrees[0]["flagged"]
    assert agrees[0]["naive_total"] > agrees[0]["corrected_total"]
    disagrees = build([*records, holdout(true_total + 0.2)], METRICS).holdout
    assert disagrees[0]["flagged"]


def test_the_roadmap_forecasts_planned_experiments_from_the_programs_record() -> None:
    records, _ = simulated_program(np.random.default_rng(11))
    drafts = [
        Record(key=f"plan-{i}", team="growth", area="pricing", status="draft", started_at=None,
               stopped_at=None, oec="conversion")
        for i in range(10)
    ]  # fmt: skip
    result = build([*records, *drafts], METRICS)
    [forecast] = [f for f in result.roadmap if f["metric"] == "conversion"]
    oec = next(m for m in result.impact if m["metric"] == "conversion")
    per_ship = oec["corrected"]["total"] / oec["shipped"]
    # the ship rate's posterior mean under a uniform prior, times the corrected effect per ship
    rate = (oec["shipped"] + 1) / (oec["experiments"] + 2)
    assert forecast["planned"] == 10
    assert forecast["expected_total"] == pytest.approx(10 * rate * per_ship, rel=0.1)
    assert forecast["ci_low"] < forecast["expected_total"] < forecast["ci_high"]
