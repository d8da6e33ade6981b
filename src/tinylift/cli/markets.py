"""``tinylift markets``: market-level tests (packaging, retail, pricing by market)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tinylift.cli.shared import DirOpt, JsonOpt, workspace

app = typer.Typer(
    help="Market-level tests: design (markets, power), analyze, decide, list.",
    no_args_is_help=True,
)
out = Console()


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:+.1%}"


@app.command("list")
def list_(dir: DirOpt = None, as_json: JsonOpt = False) -> None:
    """The market tests in markets.yml."""
    from tinylift.service.markets import list_tests

    rows = list_tests(workspace(dir))
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        out.print("no market tests: write them in markets.yml (see docs/markets.md)")
        return
    table = Table()
    for col in ("key", "metric", "method", "markets", "start"):
        table.add_column(col, no_wrap=col == "key")
    for r in rows:
        table.add_row(
            r["key"], r["metric"], r["method"].replace("_", " "), str(len(r["markets"])), r["start"]
        )
    out.print(table)


def _print_report(r: dict[str, Any]) -> None:
    out.print(
        f"[bold]{r['name']}[/] ({r['key']}, {r['method'].replace('_', ' ')}): "
        f"{len(r['treated'])} treated markets ({', '.join(r['treated'])}), "
        f"{len(r['controls'])} controls, {len(r['periods'])} periods"
        + ("" if r["complete"] else " — still running")
    )
    table = Table()
    for col in ("metric", "role", "effect / market-period", "95 % interval", "relative", "p"):
        table.add_column(col, justify="left" if col in ("metric", "role") else "right")
    for row in r["rows"]:
        table.add_row(
            row["metric"], row["role"], f"{row['effect']:,.1f}",
            f"{row['low']:,.1f} … {row['high']:,.1f}",
            f"{_pct(row['relative'])} ({_pct(row['relative_low'])} … {_pct(row['relative_high'])})",
            "–" if row["p_value"] is None else f"{row['p_value']:.3f}",
        )  # fmt: skip
    out.print(table)
    for row in r["rows"]:
        if row["money"] is not None:
            out.print(
                f"{row['metric']} over every treated market-period: {row['money']:,.0f} in money"
            )
        if row["note"]:
            out.print(f"[yellow]{row['metric']}: {row['note']}[/]")
    if r.get("naive") is not None:
        show = _pct if r["scale"] == "log" else (lambda x: f"{x:+,.1f} per market-period")
        out.print(
            f"two-way fixed effects would say {show(r['naive'])} (biased under a staggered "
            f"roll-out whose effect grows); Callaway-Sant'Anna says {show(r['rollout'])}"
        )
    d = r["decision"]
    out.print(f"recommendation: [bold]{d['recommendation'].upper()}[/]")
    for reason in d["reasons"]:
        out.print(f"  · {reason}")


@app.command()
def analyze(
    key: Annotated[str, typer.Argument(help="The market test's key (in markets.yml).")],
    draws: Annotated[int, typer.Option(help="Placebo assignments for the p-value.")] = 999,
    seed: Annotated[int, typer.Option(help="Seed of the placebo draws.")] = 0,
    dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every metric's effect (units, relative, money), p-values from placebo markets, and
    the recommendation by the same rule as user-level experiments."""
    from tinylift.service.markets import analyze as run
    from tinylift.service.markets import report_dict

    report = report_dict(run(workspace(dir), key, draws=draws, seed=seed))
    if as_json:
        print(json.dumps(report, indent=2, default=str))
        return
    _print_report(report)


@app.command()
def design(
    metric: Annotated[str, typer.Option(help="The metric the test is judged on.")],
    weeks: Annotated[int, typer.Option(help="How many periods the test runs.")],
    treated: Annotated[
        int | None, typer.Option(help="How many markets to draw for treatment (stratified).")
    ] = None,
    markets: Annotated[
        str | None,
        typer.Option(
            help="Or the markets that will be treated, comma-separated, when they cannot be "
            "drawn at random (a synthetic-control design)."
        ),
    ] = None,
    method: Annotated[str, typer.Option(help="synthetic_control or did.")] = "synthetic_control",
    sims: Annotated[int, typer.Option(help="Simulated tests per lift.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed (the same seed, the same markets).")] = 0,
    dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Choose the markets (stratified by size), or take the ones given, and simulate the
    power on the history."""
    from rich.progress import Progress

    from tinylift.errors import ConfigError
    from tinylift.results import plain
    from tinylift.service.markets import design as run

    if (treated is None) == (markets is None):
        raise ConfigError("give --treated N (markets drawn at random) or --markets A,B,...")
    chosen: int | list[str] = (
        treated if treated is not None else [m.strip() for m in (markets or "").split(",")]
    )
    with Progress(transient=True, console=Console(stderr=True)) as bar:
        bar.add_task(f"simulating {sims} past tests", total=None)
        d = run(
            workspace(dir), metric, treated=chosen, periods=weeks, method=method, sims=sims,
            seed=seed,
        )  # fmt: skip
    if as_json:
        print(json.dumps(plain(d), indent=2))
        return
    out.print(f"treat: [bold]{', '.join(d.treated)}[/]")
    out.print(f"controls: {', '.join(d.controls)}")
    if d.refused:
        out.print(f"[bold red]refused:[/] {d.refused}")
        raise typer.Exit(1)
    table = Table(title=f"power of a {weeks}-period test ({d.sims} simulated past tests)")
    table.add_column("lift", justify="right")
    table.add_column("power", justify="right")
    for lift, p in zip(d.lifts, d.power, strict=True):
        table.add_row(f"{lift:.1%}", f"{p:.0%}" + ("  (false positives)" if lift == 0 else ""))
    out.print(table)
    out.print(
        f"smallest lift detected 80 % of the time: [bold]{d.mde:.1%}[/]"
        if d.mde is not None
        else "no lift tried reaches 80 % power: treat more markets or run longer"
    )


@app.command()
def decide(
    key: Annotated[str, typer.Argument(help="The market test's key.")],
    outcome: Annotated[str, typer.Argument(help="ship, iterate or abandon.")],
    why: Annotated[str, typer.Option("--why", help="The rationale: what the evidence was.")],
    by: Annotated[str, typer.Option("--by", help="Who decides.")] = "cli",
    dir: DirOpt = None,
) -> None:
    """Record the decision on a market test (it then counts in the portfolio)."""
    from tinylift.service.markets import analyze as run
    from tinylift.service.markets import decide as record

    ws = workspace(dir)
    report = run(ws, key)  # the numbers the decision rests on are kept with it
    d = record(ws, key, outcome, why, by=by)
    out.print(f"[bold]{key}[/]: decided to [bold]{d['outcome']}[/]")
    if report.decision.recommendation != {"ship": "ship"}.get(outcome, "don't ship") and (
        outcome == "ship" or report.decision.recommendation == "ship"
    ):
        out.print(
            f"[yellow]note:[/] the decision rule recommended '{report.decision.recommendation}'; "
            "the rationale is kept"
        )
