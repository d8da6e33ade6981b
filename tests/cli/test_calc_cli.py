"""``tinylift calc``: the calculator through the real entry point."""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats
from statsmodels.stats import proportion
from statsmodels.stats.power import NormalIndPower

from tinylift.cli.main import main

FIELDS = ("effect", "ci_low", "ci_high", "rel_effect", "rel_ci_low", "rel_ci_high", "p_value")


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_proportion_json_has_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_json(
        capsys, "calc", "proportion", "--control", "10000:1000", "--treatment", "10000:1100"
    )
    for field in FIELDS:
        assert isinstance(r[field], float), field
    ref = proportion.test_proportions_2indep(1100, 10000, 1000, 10000, method="wald")
    assert r["p_value"] == pytest.approx(ref.pvalue)


def test_mean_json_matches_welch(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_json(
        capsys,
        "calc",
        "mean",
        "--control",
        "100:1.0:0.9",
        "--treatment",
        "120:1.3:1.1",
        "--alternative",
        "greater",
    )
    ref = stats.ttest_ind_from_stats(
        1.3, 1.1, 120, 1.0, 0.9, 100, equal_var=False, alternative="greater"
    )
    assert r["p_value"] == pytest.approx(ref.pvalue)
    assert r["ci_high"] is None  # one-sided: open above


def test_bayesian_json_adds_chance_to_win_and_expected_loss(
    capsys: pytest.CaptureFixture[str],
) -> None:
    r = run_json(
        capsys,
        "calc",
        "proportion",
        "--control",
        "5000:250",
        "--treatment",
        "5000:290",
        "--bayesian",
    )
    assert 0.5 < r["chance_to_win"] < 1
    assert r["expected_loss"] >= 0


def test_sequential_interval_is_wider_than_fixed(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("calc", "proportion", "--control", "5000:250", "--treatment", "5000:290")
    fixed = run_json(capsys, *args)
    seq = run_json(capsys, *args, "--sequential")
    assert seq["ci_high"] - seq["ci_low"] > fixed["ci_high"] - fixed["ci_low"]


def test_abn_reports_every_treatment(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_json(
        capsys,
        "calc",
        "proportion",
        "--control",
        "5000:250",
        "--treatment",
        "5000:290",
        "--treatment",
        "5000:240",
    )
    assert [row["variant"] for row in r["rows"]] == ["treatment_1", "treatment_2"]


def test_srm_json(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_json(capsys, "calc", "srm", "--counts", "5000,4600")
    assert r["verdict"] == "mismatch"
    assert r["p_value"] == pytest.approx(stats.chisquare([5000, 4600]).pvalue)
    r = run_json(capsys, "calc", "srm", "--counts", "2000,6000", "--weights", "1,3")
    assert r["verdict"] == "ok"
    assert run_json(capsys, "calc", "srm", "--counts", "3,5")["verdict"] == "too few units"


def test_power_json(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_json(capsys, "calc", "power", "proportion", "--baseline", "0.1", "--mde", "0.01")
    sigma = ((0.1 * 0.9 + 0.11 * 0.89) / 2) ** 0.5
    ref = NormalIndPower().solve_power(effect_size=0.01 / sigma, alpha=0.05, power=0.8)
    assert r["n_per_variant"] == math.ceil(ref)
    r = run_json(
        capsys,
        "calc",
        "power",
        "mean",
        "--baseline",
        "50",
        "--sd",
        "20",
        "--mde",
        "0.04",
        "--relative",
    )
    # a relative effect on a mean is multiplicative: the treatment's sd grows with it,
    # so the effect size uses the average of the two variances
    sd = ((20**2 + (20 * 1.04) ** 2) / 2) ** 0.5
    ref = NormalIndPower().solve_power(effect_size=(50 * 0.04) / sd, alpha=0.05, power=0.8)
    assert r["n_per_variant"] == math.ceil(ref)


def test_human_output_reads_as_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calc", "proportion", "--control", "10000:1000", "--treatment", "10000:1100"]) == 0
    text = capsys.readouterr().out
    assert "95 % interval" in text
    assert "+10 %" in text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["proportion", "--control", "10000-1000", "--treatment", "1:1"], "--control"),
        (["proportion", "--control", "100:10", "--treatment", "100:200"], "--treatment"),
        (["mean", "--control", "100:1", "--treatment", "100:1:1"], "--control"),
        (["mean", "--control", "100:1:-1", "--treatment", "100:1:1"], "--control"),
        (["srm", "--counts", "10,x"], "--counts"),
        (["srm", "--counts", "10,20", "--weights", "1"], "--weights"),
        (["power", "proportion", "--baseline", "2", "--mde", "0.1"], "baseline"),
        (["proportion", "--control", "100:10", "--treatment", "100:20", "--alpha", "2"], "--alpha"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    assert main(["calc", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert needle in err
