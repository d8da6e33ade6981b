"""``tinylift ingest`` and ``tinylift refresh``: data in, sufficient statistics out."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tinylift.cli.shared import DirOpt, workspace

ingest_app = typer.Typer()
refresh_app = typer.Typer()
out = Console()


class Kind(StrEnum):
    events = "events"
    exposures = "exposures"
    units = "units"


@ingest_app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A Parquet, CSV or JSON Lines file.")],
    kind: Annotated[
        Kind,
        typer.Option(
            help="What the file holds: events, exposures, or units (attributes of units: "
            "unit_id, an optional as_of, any other columns)."
        ),
    ],
    dir: DirOpt = None,
) -> None:
    """Validate and load a file; bad rows go to quarantine with a reason."""
    from tinylift.service import data
    from tinylift.warehouse.load import REASONS

    ws = workspace(dir)
    with out.status(f"Loading {path.name} ..."):
        report = data.ingest(ws, path, kind.value)
    table = Table(title=f"{report.kind} from {path.name}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("read", f"{report.read:,}")
    table.add_row("loaded", f"{report.loaded:,}")
    table.add_row("duplicates (ignored)", f"{report.duplicates:,}")
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
) -> None:
    """Compute every experiment's sufficient statistics in one scan of the events."""
    from tinylift.service import analysis

    ws = workspace(dir)
    with out.status("Refreshing in one scan ..."):
        summaries = analysis.refresh(ws, experiments or None)
    if as_json:
        print(json.dumps(summaries, indent=2))
        return
    n = len(summaries)
    table = Table(title=f"{n} experiment{'s' if n != 1 else ''} refreshed")
    for col in ("experiment", "units", "SRM p (vs plan)", "metric (lift, p)"):
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
        table.add_row(s["experiment"], f"{sum(s['units'].values()):,}", srm, shown)
    out.print(table)
    out.print("[dim]tinylift analyze KEY gives the full scorecard, checks and recommendation[/]")
