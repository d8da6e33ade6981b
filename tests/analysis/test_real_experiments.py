"""A real randomised experiment replayed end to end with the README's commands.

Broockman (2013): e-mails to US state legislators from a Black sender inside
or outside their district (``causaldata.black_politicians``). The e-mails go
out over two days, the experiment is stopped when the last one is sent, and
replies come two days later: they must still count. The published effect is
26.6 points fewer replies for out-of-district senders; among Black
legislators 14.6 points. Intervals are checked against statsmodels.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from tinylift.cli.main import main

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "real_experiments", ROOT / "scripts" / "real_experiments.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["real_experiments"] = module
    spec.loader.exec_module(module)
    return module


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


@pytest.fixture(scope="module")
def data() -> Any:
    from causaldata import black_politicians

    return black_politicians.load_pandas().data


def reference(d: Any) -> tuple[float, float, float]:
    """The out-of-district minus in-district reply rate, with statsmodels' Wald interval."""
    out, inn = d[d.treat_out == 1].responded, d[d.treat_out == 0].responded
    lo, hi = confint_proportions_2indep(
        out.sum(), len(out), inn.sum(), len(inn), method="wald", compare="diff"
    )
    return float(out.mean() - inn.mean()), float(lo), float(hi)


def test_broockman_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    folder = tmp_path / "broockman"
    _script().broockman(folder)
    d = str(folder)
    run(capsys, "init", d)
    run(capsys, "experiments", "import", str(folder / "experiments.yml"), "--dir", d)
    out = run(capsys, "ingest", str(folder / "exposures.csv"), "--kind", "exposures", "--dir", d)
    assert "kept 3 column(s) beyond the data model as attributes" in out
    run(capsys, "ingest", str(folder / "events.csv"), "--kind", "events", "--dir", d)
    run(capsys, "experiments", "start", "broockman-2013", "--at", "2012-10-01", "--dir", d)
    # stopped when the last e-mail went out: replies come two days later
    run(capsys, "experiments", "stop", "broockman-2013", "--at", "2012-10-03", "--dir", d)
    out = run(capsys, "analyze", "broockman-2013", "--cutoff", "2012-10-20", "--json", "--dir", d)
    card = json.loads(out)["scorecards"][0]
    row = card["rows"][0]
    effect, lo, hi = reference(data)
    assert row["effect"] == pytest.approx(effect, abs=1e-9)
    assert effect == pytest.approx(-0.266, abs=5e-4)  # the published difference
    assert (row["ci_low"], row["ci_high"]) == (
        pytest.approx(lo, abs=1e-8),
        pytest.approx(hi, abs=1e-8),
    )
    assert row["verdict"] == "worse"
    assert card["recommendation"] == "don't ship"
    assert {c["name"]: c["status"] for c in card["checks"]}["in_progress"] == "ok"
    # the breakdown by an attribute the data came with
    black = [b for b in card["breakdowns"] if b["dimension"] == "leg_black" and b["segment"] == "1"]
    assert len(black) == 1
    e_black, lo_black, hi_black = reference(data[data.leg_black == 1])
    assert black[0]["effect"] == pytest.approx(e_black, abs=1e-9)
    assert e_black == pytest.approx(-0.146, abs=5e-4)
    assert black[0]["ci_low"] == pytest.approx(lo_black, abs=1e-8)
    assert black[0]["ci_high"] == pytest.approx(hi_black, abs=1e-8)
    assert black[0]["correction"] == "holm"
