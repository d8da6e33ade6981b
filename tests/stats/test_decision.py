"""Spotify's risk-aware decision rule, case by case."""

from __future__ import annotations

import pytest

from tinylift.errors import StatsError
from tinylift.stats import MetricEvidence, decide, srm_test
from tinylift.stats.power import sample_size

OK_SRM = srm_test([10_000, 10_050])


def conv(effect: float, se: float = 0.005) -> MetricEvidence:
    return MetricEvidence("conversion", "success", effect, se)


def returns(effect: float, se: float = 0.01, margin: float = 0.05) -> MetricEvidence:
    return MetricEvidence(
        "return_rate", "guardrail", effect, se, lower_is_better=True, margin=margin
    )


def test_ship_when_success_wins_and_guardrails_hold() -> None:
    d = decide([conv(0.02), returns(0.0)], srm=OK_SRM)
    assert d.recommendation == "ship"
    assert any("conversion improved significantly" in r for r in d.reasons)
    assert any("within its non-inferiority margin" in r for r in d.reasons)


def test_dont_ship_when_a_guardrail_deteriorates() -> None:
    # the discount case: conversion up, returns significantly up
    d = decide([conv(0.05), returns(0.30, se=0.05)], srm=OK_SRM)
    assert d.recommendation == "don't ship"
    assert any("return_rate got significantly worse" in r for r in d.reasons)


def test_dont_ship_on_sample_ratio_mismatch_whatever_the_effects() -> None:
    d = decide([conv(0.05), returns(0.0)], srm=srm_test([10_000, 9_300]))
    assert d.recommendation == "don't ship"
    assert "sample ratio mismatch" in d.reasons[0]


def test_keep_running_when_inconclusive_and_not_done() -> None:
    d = decide([conv(0.004), returns(0.0, se=0.04)], srm=OK_SRM, complete=False)
    assert d.recommendation == "keep running"
    assert any("not reached yet" in r for r in d.reasons)


def test_dont_ship_when_inconclusive_at_the_planned_end() -> None:
    d = decide([conv(0.004), returns(0.0)], srm=OK_SRM, complete=True)
    assert d.recommendation == "don't ship"
    assert any("no success metric improved" in r for r in d.reasons)


def test_guardrail_not_shown_non_inferior_blocks_shipping() -> None:
    # returns estimate flat but too noisy to exclude the 5 % margin
    d = decide([conv(0.03), returns(0.0, se=0.04)], srm=OK_SRM, complete=True)
    assert d.recommendation == "don't ship"
    assert any("not yet shown to be within its margin" in r for r in d.reasons)


def test_success_metrics_are_bonferroni_corrected() -> None:
    # z = 1.8: one-sided significant alone (1.645), not with two success metrics (1.96)
    one = decide([conv(0.009)], complete=True)
    two = decide([conv(0.009), MetricEvidence("revenue", "success", 0.0, 0.01)], complete=True)
    assert one.recommendation == "ship"
    assert two.recommendation == "don't ship"


def test_secondary_metrics_never_decide() -> None:
    d = decide([conv(0.02), MetricEvidence("clicks", "secondary", -0.5, 0.01)])
    assert d.recommendation == "ship"


def test_guardrail_without_margin_is_rejected() -> None:
    with pytest.raises(StatsError, match="guardrail 'returns' needs a positive"):
        MetricEvidence("returns", "guardrail", 0.0, 0.01)


def test_rule_needs_a_success_metric() -> None:
    with pytest.raises(StatsError, match="at least one success metric"):
        decide([returns(0.0)])


def test_guardrail_power_uses_beta_over_the_number_of_guardrails() -> None:
    one = sample_size("proportion", baseline=0.1, mde=0.005, guardrails=1)
    four = sample_size("proportion", baseline=0.1, mde=0.005, guardrails=4)
    assert four.power == pytest.approx(1 - 0.2 / 4)
    assert four.n_per_variant > one.n_per_variant
