"""``tinylift demo``: build the simulated company in a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tinylift.demo.dataset import load_demo
from tinylift.demo.simulate import Simulation
from tinylift.workspace import init_workspace

out = Console()

DEFAULT_USERS = 300_000


def demo(
    dir: Annotated[Path, typer.Option("--dir", help="Workspace folder to create or reuse.")] = Path(
        "tinylift-demo"
    ),
    users: Annotated[int, typer.Option(help="Number of simulated customers.")] = DEFAULT_USERS,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 0,
    days: Annotated[int, typer.Option(help="Length of the simulated year, in days.")] = 365,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve",
            help="Serve the web app when done (arrives with the web app); "
            "--no-serve returns when the data are loaded.",
        ),
    ] = False,
) -> None:
    """Simulate a connected-home store's year of experiments and load it."""
    # Validate the parameters before touching the disk.
    n_chunks = Simulation(users=users, days=days, seed=seed).n_chunks
    settings = init_workspace(dir)
    with Progress(
        TextColumn("[bold]Simulating the company"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("blocks of customers"),
        TimeElapsedColumn(),
        console=out,
        transient=False,
    ) as progress:
        task = progress.add_task("simulate", total=n_chunks)
        summary = load_demo(
            settings,
            users=users,
            seed=seed,
            days=days,
            on_chunk=lambda _: progress.advance(task),
        )
    table = Table(title=f"Demo workspace: {summary.workspace}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("teams", f"{summary.teams}")
    table.add_row("experiments", f"{summary.experiments} + a 5 % holdout")
    table.add_row("users", f"{summary.users:,}")
    table.add_row("exposures", f"{summary.exposures:,}")
    table.add_row("events", f"{summary.events:,}")
    table.add_row("data from", f"{summary.first_day} to {summary.last_day}")
    out.print(table)
    if serve:
        out.print("The web app is not part of this release yet; the data are ready.")
