"""The whole pipeline on the simulated company, judged against its ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from tinylift.analysis import Scorecard
from tinylift.demo.company import experiments
from tinylift.demo.dataset import Company
from tinylift.demo.record import RecordSummary
from tinylift.registry import Registry, decision_of, latest_snapshot

Recorded = tuple[RecordSummary, Registry]
CASES = {s.case: s.key for s in experiments() if s.case}


def test_every_started_experiment_is_analysed_and_finished_ones_decided(recorded: Recorded) -> None:
    summary, reg = recorded
    assert not summary.analysis.failures
    # every started experiment, and the holdout (for the portfolio's check)
    assert summary.analysed == len([s for s in experiments() if s.start_day < 365]) + 1
    with reg.session() as s:
        for key in summary.analysis.scorecards:
            snap = latest_snapshot(s, key=key)
            assert Scorecard.from_dict(snap.results).experiment == key
    assert sum(summary.decisions.values()) > 30


def test_the_broken_split_is_flagged_and_not_recommended(recorded: Recorded) -> None:
    summary, reg = recorded
    card = summary.analysis.scorecards[CASES["srm"]]
    srm = card.check("srm")
    assert srm.status == "fail"
    assert "platform android" in srm.message  # where the logging bug is
    assert card.recommendation == "don't ship"
    assert "sample ratio mismatch" in card.reasons[0]
    with reg.session() as s:
        decision = decision_of(s, key=CASES["srm"])
        assert decision is not None
        assert decision.outcome == "abandon"
    # no healthy experiment is flagged for its split
    others = [k for k, c in summary.analysis.scorecards.items() if c.check("srm").status == "fail"]
    assert others == [CASES["srm"]]


def test_the_discount_is_not_shipped_because_of_the_returns_guardrail(recorded: Recorded) -> None:
    summary, reg = recorded
    card = summary.analysis.scorecards[CASES["discount"]]
    assert card.row("conversion").verdict == "better"  # the discount does sell
    assert card.row("return_rate").verdict == "worse"
    assert card.recommendation == "don't ship"
    assert any("return_rate got significantly worse" in r for r in card.reasons)
    with reg.session() as s:
        decision = decision_of(s, key=CASES["discount"])
        assert decision is not None
        assert decision.outcome == "iterate"  # the OEC moved; a guardrail blocked it
        assert "return_rate" in decision.rationale


def test_the_novelty_effect_is_flagged_and_few_others_are(recorded: Recorded) -> None:
    summary, _ = recorded
    card = summary.analysis.scorecards[CASES["novelty"]]
    check = card.check("novelty")
    assert check.status == "warn"
    assert "pages" in check.details["metrics"]
    hit = next(r for r in card.novelty if r["metric"] == "pages")
    assert hit["trend"] == "fading"
    assert hit["early_rel_effect"] > 3 * hit["late_rel_effect"]
    flagged = [
        k for k, c in summary.analysis.scorecards.items() if c.check("novelty").status == "warn"
    ]
    assert len(flagged) <= 3, flagged  # ~300 comparisons at a 0.001 threshold


def test_anecdotes_that_disagree_with_the_oec_are_flagged(recorded: Recorded) -> None:
    summary, _ = recorded
    card = summary.analysis.scorecards[CASES["anecdote_disagrees"]]
    row = card.row("conversion")
    check = card.check("anecdotes")
    # positive stories; the flag follows the measured direction of the OEC
    assert (check.status == "warn") == (row.rel_effect is not None and row.rel_effect < 0)


def test_intervals_cover_the_true_effects_at_the_nominal_rate(
    recorded: Recorded, large_company: Company
) -> None:
    summary, _ = recorded
    truth = large_company.truth.to_pandas()
    truth = truth[(truth.window_days == 14) & (truth.experiment_key != CASES["srm"])]
    covered: dict[str, list[bool]] = {}
    for t in truth.itertuples():
        card = summary.analysis.scorecards.get(t.experiment_key)
        if card is None:
            continue
        r = card.row(t.metric, t.variant_key)
        assert r.ci_low is not None
        assert r.ci_high is not None
        covered.setdefault(t.experiment_key, []).append(r.ci_low <= t.true_abs_effect <= r.ci_high)
    counts = np.array([sum(v) for v in covered.values()], dtype=float)
    sizes = np.array([len(v) for v in covered.values()], dtype=float)
    n = sizes.sum()
    rate = counts.sum() / n
    # Metrics of one experiment share units, so intervals are not independent:
    # the Monte Carlo SE is taken over experiments (clusters), never below the
    # binomial one.
    se_cluster = np.sqrt(((counts - rate * sizes) ** 2).sum()) / n
    se = max(se_cluster, np.sqrt(0.95 * 0.05 / n))
    assert n > 250
    assert abs(rate - 0.95) <= 3 * se, (rate, se, n)


@pytest.mark.parametrize("case", ["discount", "novelty"])
def test_results_over_time_and_breakdowns_are_stored(recorded: Recorded, case: str) -> None:
    summary, _ = recorded
    card = summary.analysis.scorecards[CASES[case]]
    days = sorted({r["day"] for r in card.over_time if r["metric"] == "conversion"})
    assert len(days) > 20
    last = [r for r in card.over_time if r["metric"] == "conversion" and r["day"] == days[-1]]
    # the last cumulative day holds every unit, and its sequence interval is wider
    assert last[0]["units"] == sum(card.units.values())
    fixed = card.row("conversion")
    assert last[0]["rel_ci_high"] - last[0]["rel_ci_low"] > fixed.rel_ci_high - fixed.rel_ci_low
    dims = {(r["dimension"], r["segment"]) for r in card.breakdowns}
    assert {d for d, _ in dims} == {"country", "platform"}
    assert all(r["p_value_adjusted"] >= r["p_value"] for r in card.breakdowns)
