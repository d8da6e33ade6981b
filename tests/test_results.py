"""One result protocol: every result type has the same faces, and is a value."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import numpy as np
import pytest

from tinylift.results import Result
from tinylift.stats import Moments, equivalence, fixed_horizon, sample_size, srm_test
from tinylift.stats.decision import MetricEvidence, decide

# Builds one result of every type, without pandas: run here and in a subprocess
# where importing pandas fails.
MAKE_ALL = textwrap.dedent(
    """
    from datetime import UTC, datetime
    from tinylift.stats import Moments, equivalence, fixed_horizon, sample_size, srm_test
    from tinylift.stats.decision import MetricEvidence, decide
    from tinylift.analysis.scorecard import Check, MetricRow, Scorecard
    from tinylift.analysis.pipeline import Analysis
    from tinylift.warehouse.contract import ExperimentStats, Refresh
    from tinylift.warehouse.load import LoadReport

    mo = Moments.proportion([1000, 1000], [100, 120], metrics=["conversion"])
    comparison = fixed_horizon(mo)
    row = MetricRow(
        metric="conversion", role="oec", variant="treatment", kind="proportion",
        lower_is_better=False, control_value=0.1, treatment_value=0.12, effect=0.02,
        ci_low=-0.007, ci_high=0.047, rel_effect=0.2, rel_ci_low=-0.07, rel_ci_high=0.47,
        rel_se=0.1, p_value=0.2, p_value_adjusted=None, chance_to_win=0.9, n_control=1000,
        n_treatment=1000, cuped=False, significant=False,
    )
    card = Scorecard(
        experiment="e", variants=("control", "treatment"), data_cutoff="2026-01-01",
        units={"control": 1000, "treatment": 1000}, rows=(row,),
        checks=(Check("srm", "ok", "fine"),), recommendation="keep running",
        ship_variant=None, reasons=("not yet",),
    )
    stats = ExperimentStats(
        key="e", variants=("control", "treatment"), units={"control": 1000, "treatment": 1000},
        multi_variant_units=0, unplanned_variant_units=0, metrics={"conversion": mo},
    )
    RESULTS = {
        "comparison": comparison,
        "equivalence": equivalence(mo, margin=0.05),
        "power": sample_size("proportion", baseline=0.1, mde=0.01),
        "srm": srm_test([5000, 4600]),
        "decision": decide([MetricEvidence("conversion", "success", 0.01, 0.03)]),
        "scorecard": card,
        "analysis": Analysis({"e": card}, {}, {"e": 1}, datetime(2026, 1, 1, tzinfo=UTC)),
        "load": LoadReport("f.csv", "events", 3, 2, 1, 0, {"bad_value": 1}),
        "refresh": Refresh({"e": stats}, "select 1"),
    }
    """
)


@pytest.fixture(scope="module")
def results() -> dict[str, Result]:
    scope: dict[str, object] = {}
    exec(MAKE_ALL, scope)
    return scope["RESULTS"]  # type: ignore[return-value]


def test_every_result_has_every_face(results: dict[str, Result]) -> None:
    for name, result in results.items():
        assert isinstance(result, Result), name
        json.dumps(result.to_dict())  # JSON-ready
        rows = result.to_dicts()
        assert rows, name
        assert all(isinstance(r, dict) for r in rows), name
        table = result.to_arrow()
        assert table.num_rows == len(rows), name
        assert result.to_pandas().shape[0] == len(rows), name
        html = result._repr_html_()
        assert html.startswith('<div class="tinylift-result">'), name
        assert "<table>" in html, name
        text = repr(result)
        assert text.startswith(type(result).__name__ + "("), name
        assert len(text) < 400, name


def test_arrays_are_read_only_and_mappings_immutable(results: dict[str, Result]) -> None:
    comparison = results["comparison"]
    with pytest.raises(ValueError, match="read-only"):
        comparison.values["p_value"][0, 0] = 0.5  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        comparison.values["p_value"] = np.zeros((1, 1))  # type: ignore[attr-defined, index]
    with pytest.raises(TypeError):
        results["scorecard"].units["control"] = 1  # type: ignore[attr-defined, index]
    with pytest.raises(TypeError):
        results["load"].reasons["bad_value"] = 2  # type: ignore[attr-defined, index]
    with pytest.raises(ValueError, match="read-only"):
        results["equivalence"].p_value[0, 0] = 0.0  # type: ignore[attr-defined]


def test_the_callers_arrays_stay_writable() -> None:
    mo = Moments.proportion([1000, 1000], [100, 120], metrics=["conversion"])
    first = fixed_horizon(mo)
    second = fixed_horizon(mo)
    assert first.p_value[0, 0] == second.p_value[0, 0]
    mo.n[0, 0] = 2000  # the input is the caller's own
    assert srm_test([10, 10]).verdict == "ok"
    assert sample_size("proportion", baseline=0.1, mde=0.01).n_per_variant > 0
    assert decide([MetricEvidence("c", "success", 0.01, 0.03)]).recommendation
    assert equivalence(mo, margin=0.05).metrics == ("conversion",)
    assert datetime.now(UTC)


def test_html_works_in_a_plain_install_without_pandas() -> None:
    script = (
        "import builtins\n"
        "real = builtins.__import__\n"
        "def guard(name, *a, **k):\n"
        "    if name == 'pandas' or name.startswith('pandas.'):\n"
        "        raise ImportError('pandas is not installed')\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = guard\n" + MAKE_ALL + "\nfor name, r in RESULTS.items():\n"
        "    assert '<table>' in r._repr_html_(), name\n"
        "import sys\n"
        "assert 'pandas' not in sys.modules\n"
        "print('ok', len(RESULTS))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok 9"
