"""Market series, market tests as written down, their analysis and design, and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tinylift.cli.main import main
from tinylift.demo.markets import (
    PACKAGING_LIFT,
    PACKAGING_RETURNS,
    STAGGERED,
    demo_series,
    demo_tests,
    staggered_lift,
)
from tinylift.errors import ConfigError, DataError
from tinylift.markets import (
    MarketSeries,
    analyze_market_test,
    design_test,
    parse_tests,
    read_series,
    write_series,
)


@pytest.fixture(scope="module")
def series() -> MarketSeries:
    return demo_series()


@pytest.fixture(scope="module")
def tests_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("m") / "markets.yml"
    path.write_text(demo_tests())
    return path


def test_a_series_file_round_trips(tmp_path: Path, series: MarketSeries) -> None:
    back = read_series(write_series(series, tmp_path / "markets.csv"))
    assert back.markets == series.markets
    assert back.periods == series.periods
    for name, values in series.metrics.items():
        np.testing.assert_allclose(back.metrics[name], values, atol=5e-5)
    assert back.attributes["DE"] == {"country": "DE", "region": "europe", "size": "large"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("market,week,x\nDE,2026-01-05,1\n", "needs columns market and period"),
        ("market,period,x\nDE,2026-01-05,1\nDE,last week,2\n", "row 2, field 'period'"),
        (
            "market,period,x\nDE,2026-01-05,1\nDE,2026-01-05,2\n",
            "row 2: DE 2026-01-05 appears twice",
        ),
        (
            "market,period,x\nDE,2026-01-05,1\nFR,2026-01-12,2\n",
            "market DE has no row for period 2026-01-12",
        ),
        (
            "market,period,x\nDE,2026-01-05,1\nFR,2026-01-05,many\n",
            "row 2, field 'x': 'many' is not a number",
        ),
        ("market,period,x\nDE,2026-01-05,1\nFR,2026-01-05,\n", "row 2, field 'x': missing value"),
        ("market,period,x\n,2026-01-05,1\n", "row 1, field 'market': no market named"),
        ("market,period\nDE,2026-01-05\n", "no metric columns"),
    ],
)
def test_bad_series_files_name_the_row_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as err:
        read_series(path)
    assert str(path) in str(err.value)


def test_bad_test_files_name_the_test_and_field(tmp_path: Path) -> None:
    path = tmp_path / "markets.yml"
    path.write_text(
        "tests:\n  - {key: a, metric: x, treated: [DE], start: 2026-01-05,\n"
        "     adoption: {2026-01-05: [FR]}}\n"
    )
    with pytest.raises(ConfigError, match=r"tests\.0: .*not both"):
        parse_tests(path)
    path.write_text(
        "tests:\n  - {key: a, metric: x, treated: [DE], start: 2026-01-05, colour: red}\n"
    )
    with pytest.raises(ConfigError, match=r"tests\.0\.colour"):
        parse_tests(path)
    path.write_text("tests:\n" + "  - {key: a, metric: x, treated: [DE], start: 2026-01-05}\n" * 2)
    with pytest.raises(ConfigError, match="'a' is defined twice"):
        parse_tests(path)


def test_the_packaging_test_recovers_its_lifts(series: MarketSeries, tests_file: Path) -> None:
    test = parse_tests(tests_file).tests[0]
    report = analyze_market_test(series, test, draws=199)
    sell, returns = report.rows
    assert sell.relative_low <= PACKAGING_LIFT <= sell.relative_high
    truth = (1 + PACKAGING_LIFT) * (1 + PACKAGING_RETURNS) - 1
    assert returns.relative_low <= truth <= returns.relative_high
    assert returns.p_value is not None
    assert returns.p_value < 0.05  # fewer returns, clearly
    assert sell.money == pytest.approx(sell.total * 38.0)
    assert report.decision.recommendation in ("ship", "keep running")
    assert report.primary is not None
    assert report.primary.weights.sum() == pytest.approx(1.0)


def test_the_rollout_reports_the_unbiased_and_the_naive_estimate(
    series: MarketSeries, tests_file: Path
) -> None:
    test = parse_tests(tests_file).tests[1]
    report = analyze_market_test(series, test)
    assert report.method == "staggered"
    assert report.rollout is not None
    assert report.naive is not None
    weeks = np.arange(len(series.periods))
    truth = np.concatenate([staggered_lift(weeks[w:] - w) for w in STAGGERED]).mean()
    row = report.rows[0]
    assert row.relative_low <= truth <= row.relative_high


def test_a_test_naming_an_unknown_market_says_so(series: MarketSeries, tmp_path: Path) -> None:
    path = tmp_path / "markets.yml"
    path.write_text(
        "tests:\n  - {key: a, metric: sell_through, treated: [XX], start: 2026-01-05}\n"
    )
    with pytest.raises(DataError, match="no market XX"):
        analyze_market_test(series, parse_tests(path).tests[0])


def test_design_picks_markets_across_sizes_and_simulates_power(series: MarketSeries) -> None:
    d = design_test(series, "sell_through", treated=8, periods=26, sims=100, seed=1)
    assert d.refused is None
    assert len(d.treated) == 8
    assert abs(d.size - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / 100)
    assert d.power[-1] > d.power[1]  # a bigger lift is found more often
    sizes = series.metrics["sell_through"].mean(axis=1)
    ranks = np.argsort(np.argsort(sizes))
    chosen = sorted(int(ranks[series.markets.index(m)]) for m in d.treated)
    assert chosen[0] < 10  # small and large markets both treated
    assert chosen[-1] >= 30


def test_designs_whose_power_means_nothing_are_refused(series: MarketSeries) -> None:
    short = design_test(series, "sell_through", treated=8, periods=40, sims=20)
    assert short.refused is not None
    assert "needs at least 80 before" in short.refused
    few = MarketSeries(
        series.markets[:6], series.periods, {"x": series.metrics["sell_through"][:6]}
    )
    tiny = design_test(few, "x", treated=2, periods=8, sims=20)
    assert tiny.refused is not None
    assert "smallest p-value possible" in tiny.refused
    # markets that move in lockstep: every lift is found every time
    path = np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.02, 104)))
    lockstep = MarketSeries(series.markets, series.periods,
                            {"x": np.outer(np.linspace(1, 40, 40), path)})  # fmt: skip
    sure = design_test(lockstep, "x", treated=5, periods=8, sims=20, method="did")
    assert sure.refused is not None
    assert "every lift tried" in sure.refused


@pytest.fixture(scope="module")
def ws(demo_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mws") / "ws"
    shutil.copytree(demo_workspace, path, ignore=shutil.ignore_patterns("server.json", "spool"))
    return path


def test_the_markets_commands(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["markets", "list", "--dir", str(ws)]) == 0
    assert "pkg-eco-box" in capsys.readouterr().out
    assert main(["markets", "list", "--dir", str(ws), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["key"] for t in listed] == ["pkg-eco-box", "retail-accessory-display"]
    assert len(listed[0]["markets"]) == 8
    assert (
        main(["markets", "analyze", "pkg-eco-box", "--draws", "199", "--dir", str(ws), "--json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert [r["metric"] for r in report["rows"]] == ["sell_through", "returns"]
    assert report["decision"]["recommendation"] in ("ship", "keep running")
    assert abs(sum(report["weights"].values()) - 1) < 1e-9
    assert main(["markets", "analyze", "retail-accessory-display", "--dir", str(ws)]) == 0
    out = capsys.readouterr().out
    assert "two-way fixed effects would say" in out
    assert "recommendation:" in out
    assert main(["markets", "design", "--metric", "returns", "--treated", "6", "--weeks", "12",
                 "--sims", "40", "--dir", str(ws)]) == 0  # fmt: skip
    assert "power" in capsys.readouterr().out
    assert main(["markets", "analyze", "nope", "--dir", str(ws)]) == 2
    assert "no market test 'nope' (known: pkg-eco-box" in capsys.readouterr().err


def test_a_decided_market_test_is_in_the_record_and_the_portfolio(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tinylift.service import Workspace
    from tinylift.service.portfolio import records

    args = ["--dir", str(ws)]
    assert main(["portfolio", *args, "--json"]) == 0
    before = json.loads(capsys.readouterr().out)["overall"]
    assert main(["markets", "decide", "pkg-eco-box", "ship", "--why", "", *args]) == 2
    assert "say why" in capsys.readouterr().err
    why = "returns down 8 %, sell-through up; the box costs less"
    assert main(["markets", "decide", "pkg-eco-box", "ship", "--why", why, *args]) == 0
    assert "decided to ship" in capsys.readouterr().out
    got = {r.key: r for r in records(Workspace.open(ws))}
    market = got["pkg-eco-box"]
    assert market.kind == "market"
    assert market.is_test
    assert market.shipped
    assert market.oec == "sell_through"
    assert {r.metric for r in market.rows} == {"sell_through", "returns"}
    returns = market.row("returns")
    assert returns is not None
    assert returns.verdict == "better"  # fewer returns is better
    assert main(["portfolio", *args, "--json"]) == 0
    after = json.loads(capsys.readouterr().out)["overall"]
    assert after["decided"] == before["decided"] + 1
    assert after["shipped"] == before["shipped"] + 1


def test_market_series_are_ingested_with_quarantine_and_restated(tmp_path: Path) -> None:
    from tinylift.warehouse.load import ingest
    from tinylift.warehouse.store import Warehouse

    rows = [
        "market,period,metric,value,region",
        "DE,2026-01-05,sell_through,100,europe",
        "FR,2026-01-05,sell_through,80,europe",
        "DE,2026-01-05,sell_through,100,europe",  # sent twice
        ",2026-01-05,sell_through,1,europe",
        "ES,last week,sell_through,1,europe",
        "ES,2026-01-05,sell through,1,europe",
        "ES,2026-01-05,sell_through,many,europe",
        "ES,2026-01-05,sell_through,,europe",
    ]
    path = tmp_path / "series.csv"
    path.write_text("\n".join(rows) + "\n")
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        report = ingest(wh, path, "markets")
        assert (report.read, report.loaded, report.duplicates, report.quarantined) == (8, 2, 1, 5)
        assert report.reasons == {
            "bad_metric": 1,
            "bad_period": 1,
            "bad_value": 1,
            "missing_market": 1,
            "missing_value": 1,
        }
        assert any("attributes" in n for n in report.notes)  # region kept
        fix = tmp_path / "fix.csv"
        fix.write_text("market,period,metric,value\nFR,2026-01-05,sell_through,82\n")
        again = ingest(wh, fix, "markets", restate=True)
        assert again.replaced == 1
        table = wh.con.sql(
            "SELECT market, period, metric, value, attributes FROM market_series ORDER BY market"
        ).to_arrow_table()
    from tinylift.markets.series import series_from_rows

    s = series_from_rows(table)
    assert s.markets == ("DE", "FR")
    assert s.metrics["sell_through"][:, 0].tolist() == [100.0, 82.0]
    assert s.attributes["DE"] == {"region": "europe"}


def test_a_long_series_file_reads_as_the_wide_one(tmp_path: Path, series: MarketSeries) -> None:
    import csv

    from tinylift.markets.series import long_rows

    path = tmp_path / "long.csv"
    with path.open("w", newline="") as f:
        out = csv.DictWriter(f, ["market", "period", "metric", "value"])
        out.writeheader()
        for r in long_rows(series):
            out.writerow({k: r[k] for k in ("market", "period", "metric", "value")})
    back = read_series(path)
    assert back.markets == series.markets
    for name, values in series.metrics.items():
        np.testing.assert_allclose(back.metrics[name], values, rtol=1e-12)
    path.write_text("market,period,metric,value\nDE,2026-01-05,x,1\nDE,2026-01-05,x,2\n")
    with pytest.raises(DataError, match="DE 2026-01-05 x appears twice"):
        read_series(path)


def test_a_synthetic_control_design_takes_the_markets_given(series: MarketSeries) -> None:
    from tinylift.demo.markets import PACKAGING_MARKETS

    d = design_test(series, "returns", treated=list(PACKAGING_MARKETS), periods=8, sims=60)
    assert not d.randomised
    assert set(d.treated) == set(PACKAGING_MARKETS)
    assert d.refused is None
    assert abs(d.size - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / 60)
    with pytest.raises(DataError, match="no market XX"):
        design_test(series, "returns", treated=["XX"], periods=8, sims=5)


def test_design_command_takes_a_count_or_the_markets(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["markets", "design", "--metric", "returns", "--weeks", "8", "--sims", "30",
            "--dir", str(ws)]  # fmt: skip
    assert main([*args, "--markets", "DE,FR,ES", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert sorted(d["treated"]) == ["DE", "ES", "FR"]
    assert d["randomised"] is False
    assert main(args) == 2
    assert "give --treated N" in capsys.readouterr().err


def test_a_rollout_on_the_level_scale_reports_metric_units(
    series: MarketSeries, tests_file: Path
) -> None:
    from tinylift.service.markets import report_dict

    test = parse_tests(tests_file).tests[1].model_copy(update={"scale": "level"})
    level = report_dict(analyze_market_test(series, test))
    logged = report_dict(analyze_market_test(series, parse_tests(tests_file).tests[1]))
    assert level["scale"] == "level"
    assert logged["scale"] == "log"
    rollout = analyze_market_test(series, test).rollout
    assert rollout is not None
    assert level["rollout"] == pytest.approx(rollout.effect)  # units, not expm1 of units
    assert abs(level["rollout"]) > 1  # accessory units per market-week, not a share
    assert abs(logged["rollout"]) < 1  # a relative lift
