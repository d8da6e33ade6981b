"""The registry commands end to end, on a demo workspace, through the real entry point."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tinylift.cli.main import main
from tinylift.demo.company import experiments

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "ws"
    assert main(["demo", "--dir", str(path), "--users", "6000", "--seed", "11", "--no-serve"]) == 0
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:")
    assert "Traceback" not in err
    return lines[0]


def test_the_demo_leaves_a_populated_registry(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "experiments", "list", "--dir", str(ws), "--json")
    assert code == 0
    exps = json.loads(out)
    assert len(exps) == len(experiments()) + 1  # and the holdout
    assert {e["status"] for e in exps} == {"running", "decided"}  # the holdout runs all year
    assert sum(e["status"] == "decided" for e in exps) > 30
    code, out, _ = run(capsys, "experiments", "show", "price-discount-10", "--dir", str(ws))
    assert code == 0
    assert "return_rate" in out
    assert "decided" in out
    code, out, _ = run(capsys, "learnings", "search", "discount", "--dir", str(ws), "--json")
    assert any(f["experiment"] == "price-discount-10" for f in json.loads(out))


def test_create_start_analyze_decide_a_new_experiment(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = ["--dir", str(ws)]
    code, out, err = run(
        capsys, "experiments", "create", "cli-copy-test", "--team", "marketing",
        "--name", "Copy test", "--area", "messaging", "--guardrails", "return_rate",
        "--secondary", "revenue", "--layer", "copy", "--layer-range", "0.5,1", *d,
    )  # fmt: skip
    assert code == 0, err
    assert "draft" in out
    # deciding a draft is refused, with the reason
    code, _, err = run(capsys, "decide", "cli-copy-test", "ship", "--why", "looks good", *d)
    assert code == 2
    assert "still a draft" in one_line_error(err)
    assert run(capsys, "experiments", "start", "cli-copy-test", "--at", "2026-02-01", *d)[0] == 0
    # the demo's exposures for another experiment's dates: no units for this key
    code, out, err = run(capsys, "analyze", "cli-copy-test", "--json", "--cutoff", "2026-03-01", *d)
    assert code == 1
    assert "no exposures" in json.loads(out)["failures"]["cli-copy-test"]
    code, out, _ = run(capsys, "decide", "cli-copy-test", "abandon", "--why", "no traffic", *d)
    assert code == 0
    code, out, _ = run(capsys, "experiments", "show", "cli-copy-test", "--json", *d)
    shown = json.loads(out)
    assert shown["status"] == "decided"
    assert shown["layer_range"] == [0.5, 1.0]
    assert shown["coverage"] == 0.5


def test_analyze_prints_a_scorecard_and_stores_a_snapshot(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = ["--dir", str(ws)]
    code, out, _ = run(
        capsys, "analyze", "price-discount-10", "--json", "--cutoff", "2026-12-31", *d
    )
    assert code == 0
    data = json.loads(out)
    card = data["scorecards"][0]
    assert card["experiment"] == "price-discount-10"
    assert {r["role"] for r in card["rows"]} == {"oec", "secondary", "guardrail"}
    assert {c["name"] for c in card["checks"]} >= {"srm", "novelty", "covariate_balance"}
    assert data["snapshots"]["price-discount-10"] > 0
    code, out, _ = run(capsys, "analyze", "price-discount-10", "--no-store", *d)
    assert code == 0
    for heading in ("OEC", "Guardrails", "Secondary metrics", "Health checks"):
        assert heading in out
    assert re.search(r"DON'T SHIP|SHIP|KEEP RUNNING", out)


def test_analyze_all_prints_one_line_per_running_experiment(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "analyze", "--all", "--no-store", "--dir", str(ws))
    assert code == 0
    assert "global-holdout-2026" in out  # the one experiment running at the end
    assert "1 experiment analysed" in out  # one, in the singular


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze"], "--all"),
        (["analyze", "no-such-exp"], "no experiment 'no-such-exp'"),
        (["analyze", "price-discount-10", "--cutoff", "yesterday"], "--cutoff"),
        (["decide", "price-discount-10", "maybe", "--why", "x"], "ship, iterate, abandon"),
        (["decide", "price-discount-10", "ship", "--why", "x"], "already decided"),
        (["experiments", "create", "price-discount-10", "--team", "sales"], "already exists"),
        (["experiments", "create", "x1", "--team", "nobody"], "no team 'nobody'"),
        (["experiments", "create", "x2", "--team", "sales", "--oec", "convrsion"], "convrsion"),
        (["experiments", "list", "--status", "paused"], "--status"),
        (["experiments", "create", "x3", "--team", "sales", "--weights", "a,b"], "--weights"),
        (["experiments", "create", "x4", "--team", "sales", "--layer-range", "0.5"], "start,end"),
        (
            ["experiments", "create", "x5", "--team", "sales", "--layer", "l",
             "--layer-range", "0,0.2", "--coverage", "0.5"],
            "more than the slice",
        ),
        (
            ["anecdote", "add", "home-carousel", "--text", "t", "--source", "s",
             "--sentiment", "ecstatic"],
            "sentiment",
        ),
        (["report", "no-such-exp"], "no experiment"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(
    ws: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *args, "--dir", str(ws))
    assert code == 2
    assert message in one_line_error(err)


def test_anecdotes_and_learnings(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = ["--dir", str(ws)]
    code, _, err = run(
        capsys, "anecdote", "add", "home-carousel", "--text", "Love the new carousel!",
        "--source", "app review", "--sentiment", "positive", "--variant", "treatment", *d,
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = run(capsys, "anecdote", "list", "home-carousel", "--json", *d)
    assert [a["text"] for a in json.loads(out)] == ["Love the new carousel!"]
    assert (
        run(capsys, "learnings", "add", "Carousels wear off fast.", "--tag", "Novelty", *d)[0] == 0
    )
    code, out, _ = run(capsys, "learnings", "search", "carousels", *d)
    assert "Carousels wear off fast." in out
    assert "#novelty" in out
    code, out, _ = run(capsys, "learnings", "search", "zebra-unicorn", *d)
    assert "no learning" in out


def test_report_is_one_self_contained_html_file(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.html"
    code, _, err = run(capsys, "report", "price-discount-10", "-o", str(target), "--dir", str(ws))
    assert code == 0, err
    html = target.read_text()
    assert "Recommendation: don" in html or "Recommendation: ship" in html
    # Plotly's library is inside the file; nothing is loaded from elsewhere
    assert html.count("<script") >= 4
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=\"https?:", html)
    assert "Plotly.newPlot" in html
    # one effect plot plus one over-time plot for the OEC and each guardrail
    assert html.count("Plotly.newPlot") == 1 + 1 + 2
    assert "return_rate" in html
    for section in ("Health checks", "Effect by days since exposure", "Segments", "Anecdotes"):
        assert f"<h2>{section}</h2>" in html


def test_teams(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "teams", "add", "growth", "--name", "Growth", "--dir", str(ws))[0] == 0
    _, out, _ = run(capsys, "teams", "list", "--dir", str(ws))
    assert "growth" in out
    assert "operations" in out
    _, _, err = run(capsys, "teams", "add", "growth", "--dir", str(ws))
    assert "already exists" in one_line_error(err)


def test_a_condition_and_hash_attribute_from_the_command_line(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = ["--dir", str(ws)]
    code, _, err = run(
        capsys, "experiments", "create", "cli-b2b", "--team", "marketing",
        "--condition", '{"plan": {"$inn": ["pro"]}}', *d,
    )  # fmt: skip
    assert code == 2
    assert "unknown operator '$inn'" in one_line_error(err)
    code, _, err = run(
        capsys, "experiments", "create", "cli-b2b", "--team", "marketing",
        "--condition", '{"plan": {"$in": ["pro"]}', *d,
    )  # fmt: skip
    assert "--condition: not JSON" in one_line_error(err)
    code, _, err = run(
        capsys, "experiments", "create", "cli-b2b", "--team", "marketing",
        "--condition", '{"plan": {"$in": ["pro"]}, "app": {"$vgte": "2.0.0"}}',
        "--hash-attribute", "company_id", "--hash-version", "1", *d,
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = run(capsys, "experiments", "show", "cli-b2b", "--json", *d)
    shown = json.loads(out)
    assert shown["condition"] == {"plan": {"$in": ["pro"]}, "app": {"$vgte": "2.0.0"}}
    assert (shown["hash_attribute"], shown["hash_version"]) == ("company_id", 1)
