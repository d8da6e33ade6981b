"""``tinylift demo``: build the simulated company in a workspace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tinylift.config import Settings
from tinylift.demo.dataset import load_demo
from tinylift.demo.record import RecordSummary, record_company
from tinylift.demo.simulate import Simulation
from tinylift.errors import Conflict
from tinylift.metrics import load_catalog
from tinylift.registry import Registry, list_experiments
from tinylift.warehouse.engine import DuckDBEngine
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
    sim = Simulation(users=users, days=days, seed=seed)
    n_chunks = sim.n_chunks
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
    with out.status("Recording the company's experiments ...") as status:
        recorded = _record(settings, sim, lambda stage: status.update(f"Recording: {stage} ..."))
    d = recorded.decisions
    out.print(
        f"Registry: {recorded.experiments} experiments and the holdout, "
        f"{recorded.analysed} analysed and "
        f"stored as snapshots; decisions: {d['ship']} ship, {d['iterate']} iterate, "
        f"{d['abandon']} abandon; {recorded.flagged} scorecards flag something to look at."
    )
    flagged = [
        f"{key} ({', '.join(c.name for c in card.flagged)})"
        for key, card in recorded.analysis.scorecards.items()
        if card.flagged
    ]
    if flagged:
        out.print("Needs a look: " + "; ".join(flagged))
    out.print(
        f"Next: [bold]tinylift experiments list --dir {dir}[/], "
        f"[bold]tinylift analyze price-discount-10 --dir {dir}[/], "
        f"[bold]tinylift report home-carousel --dir {dir} -o report.html[/]"
    )
    if serve:
        out.print("The web app is not part of this release yet; the data are ready.")


def _record(settings: Settings, sim: Simulation, say: Callable[[str], None]) -> RecordSummary:
    """Register, analyse and decide the company in a fresh registry."""
    own_file = settings.workspace / "registry.db"
    if settings.registry_url is None:
        # the demo's own SQLite registry is rebuilt with the data
        for suffix in ("", "-wal", "-shm"):
            Path(f"{own_file}{suffix}").unlink(missing_ok=True)
    with Registry(settings.registry) as reg:
        with reg.session() as s:
            if list_experiments(s):
                raise Conflict(
                    "the registry at registry_url already holds experiments; the demo fills "
                    "an empty one (unset registry_url to use the workspace's own)"
                )
        engine = DuckDBEngine(settings.warehouse_path, memory_limit=settings.warehouse_memory_limit)
        try:
            return record_company(
                reg,
                engine,
                load_catalog(settings.workspace),
                sim,
                alpha=settings.alpha,
                srm_alpha=settings.srm_alpha,
                on_stage=say,
            )
        finally:
            engine.close()
