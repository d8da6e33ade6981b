"""A gate on a running experiment: its pace and its conditional power, from the registry."""

from __future__ import annotations

import math
import shutil
from datetime import date
from pathlib import Path

import pytest

from tinylift.registry import get_experiment, latest_snapshot
from tinylift.service import Workspace
from tinylift.service.launches import forecast_plan, gate_states, load

RUNNING = "pdp-reviews-top"  # running on day 66 of the web demo


@pytest.fixture
def ws(web_demo: Path, tmp_path: Path) -> Workspace:
    path = tmp_path / "ws"
    shutil.copytree(web_demo, path, ignore=shutil.ignore_patterns("server.json", "spool"))
    return Workspace.open(path)


def test_a_running_gate_runs_at_its_pace_and_ships_with_its_conditional_power(
    ws: Workspace,
) -> None:
    plan_file = ws.root / "gated.yml"
    plan_file.write_text(
        "key: gated\nstart: 2026-03-09\ntasks:\n"
        f"  - {{key: test, experiment: {RUNNING}, gate: {{planned_units: 20000}},"
        " fallback: [redo]}\n"
        "  - {key: redo, duration: 10, after: [test]}\n"
        "  - {key: ship, duration: 2, after: [test, redo]}\n"
    )
    [state] = gate_states(ws, load(ws, plan_file)).values()
    with ws.registry() as reg, reg.session() as s:
        exp = get_experiment(s, key=RUNNING)
        snap = latest_snapshot(s, key=RUNNING)
        units = sum(snap.results["units"].values())
        days = (snap.data_cutoff - exp.started_at).total_seconds() / 86_400
        oec = next(r for r in snap.results["rows"] if r["role"] == "oec")
    assert state.source.startswith(f"running: {units:,} of 20,000 units")
    assert state.duration.likely == pytest.approx((20_000 - units) / (units / days) + 3)
    # conditional power under the current trend, by hand
    z = oec["effect"] / ((oec["ci_high"] - oec["ci_low"]) / (2 * 1.959963984540054))
    t = units / 20_000
    expected = 0.5 * math.erfc((1.959963984540054 - z / math.sqrt(t)) / math.sqrt(2 * (1 - t)))
    assert state.p_ship == pytest.approx(expected)
    result = forecast_plan(ws, plan_file, runs=2_000, as_of=date(2026, 3, 9))
    [gate] = result.gates
    assert gate["shipped_share"] == pytest.approx(state.p_ship, abs=0.04)
