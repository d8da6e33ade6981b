"""Flat is a finding (shown within the margin), inconclusive is not; bad segments never count."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinylift.analysis.compute import build_scorecard, degenerate
from tinylift.analysis.plan import ExperimentPlan
from tinylift.metrics import parse_catalog
from tinylift.stats import Moments
from tinylift.warehouse.contract import ExperimentStats

CUTOFF = datetime(2026, 6, 1, tzinfo=UTC)
MARGIN = 0.05  # relative


def catalog(margin: float | None = MARGIN) -> object:
    extra = f", margin: {margin}" if margin else ""
    return parse_catalog(
        f"metrics:\n  - {{name: conv, type: proportion, event: purchase, role: oec{extra}}}\n"
    )


def card(mo: Moments, margin: float | None = MARGIN) -> object:
    plan = ExperimentPlan.build(
        catalog(margin),
        key="e",
        variants=["control", "treatment"],
        complete=True,  # type: ignore[arg-type]
    )
    stats = ExperimentStats(
        key="e",
        variants=("control", "treatment"),
        units={"control": int(mo.n[0, 0]), "treatment": int(mo.n[0, 1])},
        multi_variant_units=0,
        unplanned_variant_units=0,
        metrics={"conv": mo},
    )
    return build_scorecard(stats, plan, cutoff=CUTOFF)


def verdicts(n: int, p_control: float, rel_effect: float, runs: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    p_t = p_control * (1 + rel_effect)
    out = []
    for _ in range(runs):
        c, t = rng.binomial(n, p_control), rng.binomial(n, p_t)
        mo = Moments.proportion([n, n], [c, t], metrics=["conv"])
        out.append(card(mo).row("conv").verdict)  # type: ignore[attr-defined]
    return out


@pytest.mark.slow
def test_flat_is_declared_at_most_at_alpha_when_the_effect_is_the_margin() -> None:
    runs = 2000
    got = verdicts(60_000, 0.10, MARGIN, runs, seed=5)  # the true lift sits on the margin
    rate = got.count("flat") / runs
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / runs), rate


@pytest.mark.slow
def test_a_true_zero_with_enough_data_is_flat_and_with_little_data_inconclusive() -> None:
    big = verdicts(60_000, 0.10, 0.0, 300, seed=6)
    # about 78 % power to show flat within +-5 % here (|lift| < 2.15 % needed)
    assert big.count("flat") / 300 > 0.65
    runs = 2000
    small = verdicts(2_000, 0.10, 0.0, runs, seed=7)  # the interval is wider than +-5 %
    assert small.count("flat") == 0
    # significant at alpha either way, else inconclusive: never flat
    assert small.count("inconclusive") / runs >= 0.95 - 3 * np.sqrt(0.05 * 0.95 / runs)


def test_without_a_margin_nothing_is_flat() -> None:
    mo = Moments.proportion([60_000, 60_000], [6000, 6010], metrics=["conv"])
    assert card(mo, margin=None).row("conv").verdict == "inconclusive"  # type: ignore[attr-defined]
    flat = card(mo)
    assert flat.row("conv").verdict == "flat"  # type: ignore[attr-defined]
    # the decision rule says it in the same words
    assert "the OEC conv is flat: within ±5.0%" in flat.reasons  # type: ignore[attr-defined]
    assert any("is inconclusive" in r for r in card(mo, margin=None).reasons)  # type: ignore[attr-defined]


@settings(max_examples=200, deadline=None)
@given(
    n_c=st.integers(0, 400),
    n_t=st.integers(0, 400),
    effect=st.floats(-1, 1, allow_nan=False),
    width=st.floats(0, 1, allow_nan=False),
    p=st.floats(0, 1),
    flags=st.lists(st.sampled_from(["zero variance"]), max_size=1),
)
def test_no_degenerate_segment_is_ever_significant(
    n_c: int, n_t: int, effect: float, width: float, p: float, flags: list[str]
) -> None:
    row = {
        "n_control": n_c,
        "n_treatment": n_t,
        "ci_low": effect - width,
        "ci_high": effect + width,
        "flags": flags,
    }
    why = degenerate(row)
    if min(n_c, n_t) < 100 or not row["ci_high"] > row["ci_low"] or flags:
        assert why, row
    else:
        assert not why
