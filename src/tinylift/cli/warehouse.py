"""``tinylift ingest`` and ``tinylift refresh``: data in, sufficient statistics out."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import TaskID
from rich.table import Table

from tinylift.cli.shared import DirOpt, workspace

ingest_app = typer.Typer()
refresh_app = typer.Typer()
out = Console()


class Kind(StrEnum):
    events = "events"
    exposures = "exposures"
    units = "units"
    markets = "markets"


@ingest_app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A Parquet, CSV or JSON Lines file.")],
    kind: Annotated[
        Kind,
        typer.Option(
            help="What the file holds: events, exposures, units (attributes of units: "
            "unit_id, an optional as_of, any other columns), or markets (market series: "
            "market, period, metric, value, any columns describing the market)."
        ),
    ],
    dir: DirOpt = None,
    restate: Annotated[
        bool,
        typer.Option(
            "--restate",
            help="The file corrects rows sent before: a row whose key is already loaded "
            "(an event's event_id; an exposure's experiment, unit, variant and time) "
            "replaces it instead of being ignored as a duplicate.",
        ),
    ] = False,
) -> None:
    """Validate and load a file; bad rows go to quarantine with a reason."""
    from tinylift.service import data
    from tinylift.warehouse.load import REASONS

    ws = workspace(dir)
    with out.status(f"Loading {path.name} ..."):
        report = data.ingest(ws, path, kind.value, restate=restate)
    table = Table(title=f"{report.kind} from {path.name}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("read", f"{report.read:,}")
    table.add_row("loaded", f"{report.loaded:,}")
    table.add_row("duplicates (ignored)", f"{report.duplicates:,}")
    if restate:
        table.add_row("replaced (restated)", f"{report.replaced:,}")
    table.add_row("quarantined", f"{report.quarantined:,}")
    out.print(table)
    for code, n in report.reasons.items():
        _, text = REASONS[code]
        out.print(f"  [yellow]{n:,}[/] {code}: {text}")
    for note in report.notes:
        out.print(f"  [dim]note:[/] {note}")
    if report.quarantined:
        out.print("Quarantined rows are in the warehouse table 'quarantine', with file and row.")


@refresh_app.command()
def refresh(
    experiments: Annotated[
        list[str] | None,
        typer.Argument(help="Experiment keys (default: every started one)."),
    ] = None,
    dir: DirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Rebuild the refresh's state from all the data (by default only rows "
            "loaded since the last refresh are read).",
        ),
    ] = False,
) -> None:
    """Compute every experiment's sufficient statistics, reading only rows loaded since the
    last refresh (exact: the statistics of a full refresh)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tinylift.service import analysis

    ws = workspace(dir)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}
        main = bar.add_task("Refreshing", total=None)

        def step(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        summaries = analysis.refresh(ws, experiments or None, full=full, on_progress=step)
        bar.update(main, total=1, completed=1)
    if as_json:
        print(json.dumps(summaries, indent=2))
        return
    n = len(summaries)
    table = Table(title=f"{n} experiment{'s' if n != 1 else ''} refreshed")
    for col in ("experiment", "units", "SRM p (vs plan)", "metric (lift, p)", "state"):
        table.add_column(col)
    for s in summaries:
        moved = [m for m in s["metrics"] if m["significant"]]
        shown = (
            ", ".join(
                f"{m['metric']} {m['rel_effect'] * 100:+.1f}% (p={m['p_value']:.2g})"
                if m["rel_effect"] is not None
                else f"{m['metric']} {m['effect']:+.3g} (p={m['p_value']:.2g})"
                for m in moved[:3]
            )
            or f"nothing significant at {s['alpha']:g}"
        )
        srm = "" if s["srm_p_value"] is None else f"{s['srm_p_value']:.2g}"
        table.add_row(
            s["experiment"], f"{sum(s['units'].values()):,}", srm, shown, s.get("state", "")
        )
    out.print(table)
    out.print("[dim]tinylift analyze KEY gives the full scorecard, checks and recommendation[/]")
