"""Launch plans in a workspace: the demo's plan, gates from the registry, the commands."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from tinylift.cli.main import main
from tinylift.errors import ConfigError
from tinylift.registry import decision_of
from tinylift.service import Workspace
from tinylift.service.demo import DEMO_SLIPS
from tinylift.service.launches import forecast_plan, gate_states, history, load, record_slip


@pytest.fixture
def ws(demo_workspace: Path, tmp_path: Path) -> Workspace:
    path = tmp_path / "ws"
    shutil.copytree(demo_workspace, path, ignore=shutil.ignore_patterns("server.json", "spool"))
    return Workspace.open(path)


def test_the_demo_plan_has_eleven_teams_two_gates_and_a_history(ws: Workspace) -> None:
    plan = load(ws, "hub2-launch")
    teams = {t.team for t in plan.tasks if t.team}
    assert len(teams) == 11
    assert [t.experiment for t in plan.tasks if t.experiment] == [
        "onb-bundle-suggest",
        "pkg-hub2-unboxing",
    ]
    past = history(ws, "hub2-launch")
    assert [f["reason"].split(" slipped")[0] for f in past["forecasts"]] == [
        "first forecast",
        *[task for task, *_ in DEMO_SLIPS],
    ]
    p80 = [date.fromisoformat(f["p80"]) for f in past["forecasts"]]
    assert p80 == sorted(p80)  # each slip moved the P80 later (or not at all)
    assert p80[-1] > p80[0]
    # the recorded slips are part of the plan as loaded
    assert plan.task("pcb").slipped == 12


def test_a_decided_gate_takes_its_decision_and_an_unknown_one_the_plans_numbers(
    ws: Workspace,
) -> None:
    plan = load(ws, "hub2-launch")
    states = gate_states(ws, plan)
    with ws.registry() as reg, reg.session() as s:
        decided = decision_of(s, key="onb-bundle-suggest")
    assert decided is not None
    onboarding = states["onboarding-test"]
    assert onboarding.p_ship == (1.0 if decided.outcome == "ship" else 0.0)
    assert onboarding.source == f"decided: {decided.outcome}"
    assert onboarding.duration.pessimistic == 0
    unboxing = states["unboxing-test"]
    assert unboxing.p_ship == 0.35  # the plan's
    assert unboxing.duration.likely == pytest.approx(40_000 / 1_500 + 3)


def test_the_command_prints_what_the_service_computes(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["launch", "forecast", "launch.yml", "--dir", str(ws.root), "--json",
                 "--as-of", "2026-09-01", "--runs", "2000"]) == 0  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    ours = forecast_plan(ws, "hub2-launch", runs=2_000, as_of=date(2026, 9, 1), keep=False)
    assert printed == json.loads(json.dumps(ours.to_dict()))
    whatif = ["launch", "whatif", "hub2-launch", "--task", "certification", "--slip", "10"]
    assert main([*whatif, "--dir", str(ws.root), "--as-of", "2026-09-01", "--runs", "2000"]) == 0
    out = capsys.readouterr().out
    assert "if certification slips 10 days" in out
    assert main(["launch", "slip", "hub2-launch", "--task", "nosuch", "--days", "3",
                 "--dir", str(ws.root)]) == 2  # fmt: skip
    assert "no task 'nosuch'" in capsys.readouterr().err


def test_recording_a_slip_moves_the_forecast_and_keeps_it(ws: Workspace) -> None:
    before = history(ws, "hub2-launch")["forecasts"]
    start = date(2026, 9, 1)
    after = record_slip(ws, "hub2-launch", "certification", 15, reason="lab slot lost", as_of=start)
    kept = history(ws, "hub2-launch")
    assert len(kept["forecasts"]) == len(before) + 1
    assert kept["slips"][-1]["task"] == "certification"
    assert after.finish["p80"] > before[-1]["p80"]  # on the critical path: later
    with pytest.raises(ConfigError, match="slip of 1 to 3650 days"):
        record_slip(ws, "hub2-launch", "certification", -2)


def test_a_gate_nobody_can_size_is_refused_with_what_to_give(ws: Workspace) -> None:
    plan = ws.root / "tiny.yml"
    plan.write_text(
        "key: tiny\nstart: 2027-01-04\ntasks:\n"
        "  - {key: test, experiment: no-such-experiment}\n"
        "  - {key: after, duration: 3, after: [test]}\n"
    )
    with pytest.raises(ConfigError, match=r"gate 'test' .* needs its planned units and daily"):
        forecast_plan(ws, plan)
    plan.write_text(plan.read_text().replace("experiment: no-such-experiment", "experiment: x, "
                    "gate: {planned_units: 1000, daily_units: 100, p_ship: 0.5}"))  # fmt: skip
    result = forecast_plan(ws, plan, runs=1_000, as_of=date(2027, 1, 4))
    [gate] = result.gates
    assert gate["p_ship"] == 0.5
    assert result.finish["cpm"] == "2027-01-20"  # 10 days to run, 3 to decide, 3 after


def test_a_forecast_is_as_of_the_plans_status_date_unless_told(ws: Workspace) -> None:
    before = history(ws, "hub2-launch")["forecasts"][-1]
    after = record_slip(ws, "hub2-launch", "legal-review", 1)  # far off the critical path
    assert after.as_of == "2026-09-01"  # the demo plan's start: it records no progress
    assert after.finish["p50"] == before["p50"]
    text = (
        (ws.root / "launch.yml")
        .read_text()
        .replace("start: 2026-09-01", "start: 2026-09-01\nstatus_date: 2026-12-01")
    )
    (ws.root / "launch.yml").write_text(text)
    later = forecast_plan(ws, "launch.yml", runs=1_000)
    assert later.as_of == "2026-12-01"
    assert later.finish["p50"] > before["p50"]  # nothing recorded as started: all wait till then


def test_a_slip_on_a_plan_that_cannot_be_forecast_is_not_stored(ws: Workspace) -> None:
    plan = ws.root / "tiny.yml"
    plan.write_text(
        "key: tiny\nstart: 2027-01-04\ntasks:\n"
        "  - {key: build, duration: 5}\n"
        "  - {key: test, experiment: no-such-experiment, after: [build]}\n"
    )
    with pytest.raises(ConfigError, match="needs its planned units"):
        record_slip(ws, plan, "build", 3)
    assert history(ws, "tiny")["slips"] == []
