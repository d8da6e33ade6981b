"""``tinylift launch``: forecast a launch plan, ask what a slip would do, record one."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tinylift.cli.shared import DirOpt, JsonOpt, workspace

app = typer.Typer(help="Launch plans: forecast, what-if, slips.", no_args_is_help=True)
out = Console()

PlanArg = Annotated[
    str,
    typer.Argument(help="A plan file (launch.yml: stored under its key) or a stored plan's key."),
]
RunsOpt = Annotated[
    int | None,
    typer.Option(help="Monte Carlo runs (100 to 200,000; default 10,000, fewer for a huge plan)."),
]
SeedOpt = Annotated[int, typer.Option(help="Seed of the runs (the same seed, the same numbers).")]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="As of this date (YYYY-MM-DD; default the plan's status_date, else its start).",
    ),
]


def _day(value: str | None) -> date | None:
    from tinylift.errors import ConfigError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{value!r} is not a date (YYYY-MM-DD)", parameter="--as-of") from None


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _print_forecast(f: dict[str, Any]) -> None:
    fin = f["finish"]
    line = (
        f"[bold]{f['name']}[/] ({f['plan']}), as of {f['as_of']}, {f['runs']:,} runs: "
        f"P50 {fin['p50']}, [bold]P80 {fin['p80']}[/], P95 {fin['p95']} "
        f"(the single-date plan says {fin['cpm']})"
    )
    out.print(line)
    if fin.get("deadline"):
        out.print(f"chance to launch by {fin['deadline']}: [bold]{_pct(fin['p_on_time'])}[/]")
    if f["milestones"]:
        table = Table(title="Milestones", title_justify="left")
        for col in ("milestone", "P50", "P80", "P95", "deadline", "on time"):
            table.add_column(col)
        for m in f["milestones"]:
            table.add_row(
                m["name"], m["p50"], m["p80"], m["p95"], m.get("deadline") or "–",
                _pct(m.get("p_on_time")),
            )  # fmt: skip
        out.print(table)
    table = Table(title="What drives the date (most critical first)", title_justify="left")
    for col in (
        "task",
        "team",
        "critical path",
        "criticality",
        "cruciality",
        "sensitivity",
        "float",
    ):
        table.add_column(col, justify="left" if col in ("task", "team") else "right")
    ranked = sorted(f["tasks"], key=lambda t: (-t["criticality"], -t["ssi"]))
    for t in ranked[:12]:
        table.add_row(
            t["name"], t["team"] or "–", "yes" if t["critical"] else "", _pct(t["criticality"]),
            f"{t['cruciality']:.2f}", f"{t['ssi']:.2f}", f"{t['float']:.0f} d",
        )  # fmt: skip
    out.print(table)
    for g in f["gates"]:
        out.print(
            f"gate {g['key']} ({g['experiment']}): ships with {_pct(g['p_ship'])} — {g['source']}"
            + (f"; otherwise {', '.join(g['fallback'])}" if g["fallback"] else "")
        )
    for m in f["merges"][:3]:
        if m["bias_days"] >= 0.5:
            out.print(
                f"merge bias: {m['name']} waits on {m['waits_on']} tasks and starts "
                f"{m['bias_days']:.1f} days later on average than the plan of mean durations says"
            )


@app.command()
def forecast(
    plan: PlanArg,
    runs: RunsOpt = None,
    seed: SeedOpt = 0,
    as_of: AsOfOpt = None,
    dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The critical path and the Monte Carlo forecast: P50/P80/P95, the chance to meet the
    target, what drives the date. The forecast joins the plan's history."""
    from tinylift.service.launches import forecast_plan

    result = forecast_plan(workspace(dir), plan, runs=runs, seed=seed, as_of=_day(as_of))
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    _print_forecast(result.to_dict())


@app.command()
def whatif(
    plan: PlanArg,
    task: Annotated[str, typer.Option(help="The task that slips.")],
    slip: Annotated[float, typer.Option(help="By how many days.")],
    runs: RunsOpt = None,
    seed: SeedOpt = 0,
    as_of: AsOfOpt = None,
    dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What moves if one task slips (nothing is recorded)."""
    from tinylift.service.launches import whatif_plan

    result = whatif_plan(
        workspace(dir), plan, task, slip, runs=runs, seed=seed, as_of=_day(as_of)
    ).to_dict()
    if as_json:
        print(json.dumps(result, indent=2))
        return
    fin = result["finish"]
    out.print(
        f"if [bold]{task}[/] slips {slip:g} days: the single-date finish moves "
        f"{fin['cpm_shift_days']:+.0f} days ({fin['cpm_before']} → {fin['cpm_after']}); "
        f"P80 {fin['p80_before']} → [bold]{fin['p80_after']}[/] ({fin['p80_shift_days']:+.1f} days)"
    )
    if "p_on_time_before" in fin:
        out.print(
            f"chance to meet the target: {_pct(fin['p_on_time_before'])} → "
            f"{_pct(fin['p_on_time_after'])}"
        )
    table = Table(title="What moves", title_justify="left")
    for col in ("task", "team", "ends", "moves", "float absorbed"):
        table.add_column(col, justify="left" if col in ("task", "team", "ends") else "right")
    for m in result["moved"]:
        table.add_row(
            m["name"] + (" (milestone)" if m["milestone"] else ""), m["team"] or "–",
            f"{m['end_before']} → {m['end_after']}", f"{m['shift_days']:+.0f} d",
            f"{m['absorbed_days']:.0f} d",
        )  # fmt: skip
    out.print(table)


@app.command()
def slip(
    plan: PlanArg,
    task: Annotated[str, typer.Option(help="The task that slipped.")],
    days: Annotated[float, typer.Option(help="By how many days.")],
    why: Annotated[str, typer.Option(help="What happened.")] = "",
    by: Annotated[str | None, typer.Option("--by", help="Who records it.")] = None,
    as_of: AsOfOpt = None,
    dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that a task slipped; the plan is forecast again and the history kept."""
    from tinylift.service.launches import record_slip

    result = record_slip(
        workspace(dir), plan, task, days, reason=why, by=by, as_of=_day(as_of)
    ).to_dict()
    if as_json:
        print(json.dumps(result, indent=2))
        return
    out.print(f"recorded: {task} slipped {days:g} days")
    _print_forecast(result)


@app.command("list")
def list_(dir: DirOpt = None, as_json: JsonOpt = False) -> None:
    """Stored plans and their latest P80."""
    from tinylift.service.launches import list_plans

    rows = list_plans(workspace(dir))
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        out.print("no launch plans yet: tinylift launch forecast launch.yml")
        return
    table = Table()
    for col in ("plan", "name", "P80", "on time", "as of"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["key"], r["name"], r["p80"] or "–", _pct(r["p_on_time"]), r["as_of"] or "–")
    out.print(table)


@app.command()
def history(plan: PlanArg, dir: DirOpt = None, as_json: JsonOpt = False) -> None:
    """How the plan's forecast moved, slip by slip."""
    from tinylift.service.launches import history as of

    data = of(workspace(dir), plan)
    if as_json:
        print(json.dumps(data, indent=2))
        return
    table = Table()
    for col in ("when", "as of", "P50", "P80", "P95", "on time", "why"):
        table.add_column(col)
    for f in data["forecasts"]:
        table.add_row(
            f["at"][:16].replace("T", " "), f["as_of"], f["p50"], f["p80"], f["p95"],
            _pct(f["p_on_time"]), f["reason"],
        )  # fmt: skip
    out.print(table)
