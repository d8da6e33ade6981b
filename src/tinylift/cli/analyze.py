"""``tinylift analyze``, ``tinylift decide`` and ``tinylift report``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tinylift.cli.shared import DirOpt, JsonOpt, parse_time, workspace
from tinylift.errors import ConfigError

analyze_app = typer.Typer()
decide_app = typer.Typer()
report_app = typer.Typer()
out = Console()
err = Console(stderr=True)


@analyze_app.command()
def analyze(
    experiments: Annotated[
        list[str] | None, typer.Argument(help="Experiment keys (or --all running ones).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every running experiment.")] = False,
    cutoff: Annotated[
        str | None, typer.Option(help="Use data up to this date or time (default: now).")
    ] = None,
    store: Annotated[
        bool, typer.Option("--store/--no-store", help="Keep the result as a snapshot.")
    ] = True,
    dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Refresh, test, check and recommend; each result is stored as a snapshot."""
    from tinylift.cli.scorecard import render, render_summary
    from tinylift.service import analysis

    if not experiments and not all_:
        raise ConfigError(
            "name an experiment, or give --all for every running one", parameter="experiments"
        )
    ws = workspace(dir)
    with err.status("Analysing ...") as status:
        result = analysis.analyze(
            ws,
            experiments or None,
            cutoff=parse_time(cutoff, parameter="--cutoff"),
            store=store,
            on_stage=lambda stage: status.update(f"Analysing: {stage} ..."),
        )
    if as_json:
        doc = result.to_dict()
        print(json.dumps({k: doc[k] for k in ("scorecards", "snapshots", "failures")}, indent=2))
    elif all_ and not experiments:
        render_summary(list(result.scorecards.values()), out)
        out.print("[dim]tinylift analyze KEY shows an experiment's full scorecard[/]")
    else:
        for card in result.scorecards.values():
            render(card, out)
        for key, why in result.failures.items():
            out.print(f"[red]{key}: not analysed[/] — {why}")
        if result.snapshots:
            n = len(result.snapshots)
            out.print(f"[dim]{n} snapshot{'s' if n != 1 else ''} stored[/]")
    if result.failures and not result.scorecards:
        raise typer.Exit(1)


@decide_app.command()
def decide(
    experiment: Annotated[str, typer.Argument(help="Experiment key.")],
    outcome: Annotated[str, typer.Argument(help="ship, iterate or abandon.")],
    why: Annotated[str, typer.Option("--why", help="The rationale: what the evidence was.")],
    variant: Annotated[str | None, typer.Option(help="The variant that ships (A/B/n).")] = None,
    by: Annotated[str, typer.Option("--by", help="Who decides.")] = "cli",
    dir: DirOpt = None,
) -> None:
    """Record the decision on an experiment, resting on its latest snapshot."""
    from tinylift.service import analysis

    d = analysis.decide(workspace(dir), experiment, outcome, rationale=why, variant=variant, by=by)
    shipped = f" ({d.variant})" if d.variant else ""
    out.print(f"[bold]{experiment}[/]: decided to [bold]{outcome}[/]{shipped}")
    if d.overrides_rule:
        out.print(
            f"[yellow]note:[/] the decision rule recommended '{d.recommendation}'; "
            "the rationale is kept"
        )


@report_app.command()
def report(
    experiment: Annotated[str, typer.Argument(help="Experiment key.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path(
        "report.html"
    ),
    dir: DirOpt = None,
) -> None:
    """Write one self-contained HTML report (plots included, works offline)."""
    from tinylift.service.reports import write_report

    size = write_report(workspace(dir), experiment, output)
    out.print(f"report for [bold]{experiment}[/] written to {output} ({size // 1024:,} KB)")
