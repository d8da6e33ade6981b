"""``tinylift portfolio`` on a demo workspace: the command, the JSON and Python agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinylift.cli.main import main
from tinylift.service import Workspace
from tinylift.service.portfolio import portfolio, records


def test_the_command_prints_what_the_python_api_computes(
    demo_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["portfolio", "--dir", str(demo_workspace), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    ours = portfolio(Workspace.open(demo_workspace)).to_dict()
    assert shown == json.loads(json.dumps(ours, default=str))
    recs = records(Workspace.open(demo_workspace))
    decided = [r for r in recs if r.kind == "experiment" and r.outcome is not None]
    assert shown["overall"]["decided"] == len(decided) > 0
    assert {m["metric"] for m in shown["impact"]} == {
        "conversion",
        "return_rate",
        "support_contacts",
    }
    assert shown["shared_metrics"][0] == "conversion"
    assert main(["portfolio", "--dir", str(demo_workspace)]) == 0
    text = capsys.readouterr().out
    assert "Cumulative impact of what shipped" in text
    assert "By team" in text
