"""Stopping ends enrolment, not the units' metric windows.

Sixty simulated experiments, each stopped after 20 days of enrolment, where
a conversion comes up to 7 days after exposure. Counting every unit's events
to the end of its own window gives unbiased effects; the old rule (events
cut at the stop) shrinks them, because late entrants lose part of their
window. The simulation shows both, with tolerances from the Monte Carlo SE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from tinylift.analysis.health import in_progress
from tinylift.metrics import parse_catalog
from tinylift.warehouse import DuckDBEngine, ExperimentWindow, refresh

pytestmark = pytest.mark.slow

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
START = np.datetime64("2026-03-01T00:00:00", "us")  # DAY0 for numpy (UTC)
N_EXP, UNITS, ENROL_DAYS, WINDOW = 60, 20_000, 20, 7
P_CONTROL, EFFECT = 0.10, 0.02
CATALOG = parse_catalog(
    f"""
metrics:
  - {{name: conversion, type: proportion, event: purchase, role: oec,
      window: {{start_days: 0, end_days: {WINDOW}}}}}
"""
)


@pytest.fixture(scope="module")
def engine() -> DuckDBEngine:
    rng = np.random.default_rng(20261202)
    keys = np.repeat([f"exp-{i:02d}" for i in range(N_EXP)], UNITS)
    units = np.array([f"u{i}" for i in range(N_EXP * UNITS)])
    treated = rng.random(len(units)) < 0.5
    entry = START + pd_seconds(rng.uniform(0, ENROL_DAYS * 86400, len(units)))
    converts = rng.random(len(units)) < np.where(treated, P_CONTROL + EFFECT, P_CONTROL)
    delay = pd_seconds(rng.uniform(0, WINDOW * 86400, len(units)))
    engine = DuckDBEngine()
    engine.register(
        "exposures",
        pa.table(
            {
                "experiment_key": keys,
                "variant_key": np.where(treated, "treatment", "control"),
                "unit_id": units,
                "timestamp": pa.array(entry, pa.timestamp("us", tz="UTC")),
                "country": pa.nulls(len(units), pa.string()),
                "platform": pa.nulls(len(units), pa.string()),
            }
        ),
    )
    buyers = np.flatnonzero(converts)
    engine.register(
        "events",
        pa.table(
            {
                "event_id": [f"e{i}" for i in buyers],
                "unit_id": units[buyers],
                "timestamp": pa.array(entry[buyers] + delay[buyers], pa.timestamp("us", tz="UTC")),
                "event_name": np.full(len(buyers), "purchase"),
                "value": np.ones(len(buyers)),
                "properties": pa.nulls(len(buyers), pa.string()),
            }
        ),
    )
    return engine


def pd_seconds(seconds: np.ndarray) -> np.ndarray:
    return (seconds * 1e6).astype("timedelta64[us]")


def effects(engine: DuckDBEngine, **window: datetime | None) -> tuple[np.ndarray, dict[str, int]]:
    in_progress: str = window.pop("in_progress", "exclude")  # type: ignore[assignment]
    wins = [
        ExperimentWindow(f"exp-{i:02d}", ("control", "treatment"), ("conversion",), **window)
        for i in range(N_EXP)
    ]
    res = refresh(engine, CATALOG, wins, in_progress=in_progress).experiments  # type: ignore[arg-type]
    out = []
    for w in wins:
        mo = res[w.key].metrics["conversion"]
        rate = mo.s[0, :, 0] / mo.n[0]
        out.append(rate[1] - rate[0])
    return np.array(out), res[wins[0].key].in_progress


def within(estimates: np.ndarray, truth: float, k: float = 3.0) -> bool:
    se = estimates.std(ddof=1) / np.sqrt(len(estimates))
    return bool(abs(estimates.mean() - truth) <= k * se)


def test_stopping_ends_enrolment_and_windows_run_on(engine: DuckDBEngine) -> None:
    stop = DAY0 + timedelta(days=ENROL_DAYS)
    later = stop + timedelta(days=WINDOW + 3)
    fair, waiting = effects(engine, start=DAY0, enrol_end=stop, end=later)
    assert within(fair, EFFECT), fair.mean()
    assert waiting == {"conversion": 0}  # every window ended before the cutoff
    # the old rule: events cut at the stop, late entrants keep half a window
    cut, _ = effects(engine, start=DAY0, end=stop, in_progress="include")
    assert not within(cut, EFFECT, k=4.0), cut.mean()
    expected = EFFECT * (1 - WINDOW / ENROL_DAYS / 2)  # the share of windows it sees
    assert within(cut, expected), (cut.mean(), expected)


def test_units_still_inside_their_window_are_left_out_and_counted(engine: DuckDBEngine) -> None:
    stop = DAY0 + timedelta(days=ENROL_DAYS)
    cutoff = stop + timedelta(days=2)  # entrants of the last five days are still in their window
    fair, waiting = effects(engine, start=DAY0, enrol_end=stop, end=cutoff)
    assert within(fair, EFFECT), fair.mean()
    share = waiting["conversion"] / UNITS
    assert share == pytest.approx((WINDOW - 2) / ENROL_DAYS, abs=0.02)
    res = refresh(
        engine,
        CATALOG,
        [ExperimentWindow("exp-00", ("control", "treatment"), ("conversion",), DAY0, cutoff, stop)],
    )
    check = in_progress(res.experiments["exp-00"])
    assert check.status == "info"
    assert "left out of conversion" in check.message
