"""``tinylift demo``: build the simulated company in a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer()
out = Console()

DEFAULT_USERS = 300_000


@app.command()
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
            help="Serve the web app when done, with a demo login; "
            "--no-serve returns when the data are loaded.",
        ),
    ] = True,
    port: Annotated[int, typer.Option(help="Port the web app listens on.")] = 8000,
) -> None:
    """Simulate a connected-home store's year of experiments and load it."""
    from tinylift.service.demo import build_demo, check_demo
    from tinylift.service.workspace import Workspace

    n_chunks = check_demo(users=users, seed=seed, days=days)  # before touching the disk
    ws = Workspace.init(dir)
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
        status = None

        def stage(text: str) -> None:
            nonlocal status
            if status is None:
                progress.stop()
                status = out.status("Recording the company's experiments ...")
                status.start()
            status.update(f"Recording: {text} ...")

        try:
            result = build_demo(
                ws,
                users=users,
                seed=seed,
                days=days,
                on_chunk=lambda _: progress.advance(task),
                on_stage=stage,
            )
        finally:
            if status is not None:
                status.stop()
    summary, recorded = result.data, result.record
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
    me = _command()
    out.print(
        f"Next: [bold]{me} experiments list --dir {dir}[/], "
        f"[bold]{me} analyze price-discount-10 --dir {dir}[/], "
        f"[bold]{me} report home-carousel --dir {dir} -o report.html[/]"
    )
    if serve:
        from tinylift.collector.server import serve as run
        from tinylift.service.demo import demo_login
        from tinylift.web import create_app

        handle, password = demo_login(ws)
        host = ws.settings.host
        out.print(f"The web app: [bold]http://{host}:{port}[/]  (Ctrl-C stops it)")
        out.print(f"  demo login   user: [bold]{handle}[/]", soft_wrap=True)
        out.print(f"               password: [bold]{password}[/]  (an admin)", soft_wrap=True)
        app_ = create_app(ws, url=f"http://{host}:{port}")
        run(app_, host=host, port=port, read_timeout=ws.settings.read_timeout)


def _command() -> str:
    """How this shell can run tinylift again: ``tinylift`` when it is on the PATH, else its path."""
    import os
    import shutil
    import sys

    script = Path(sys.argv[0])
    on_path = shutil.which("tinylift")
    if script.name != "tinylift":  # run as python -m: say so
        return f"{Path(sys.executable).name} -m tinylift.cli.main"
    # inside a virtual environment the shell finds it only once that is activated
    # (make puts .venv/bin on its own PATH, which the user's shell does not have)
    venv = os.environ.get("VIRTUAL_ENV")
    activated = venv is not None and Path(venv).resolve() == Path(sys.prefix).resolve()
    in_venv = sys.prefix != sys.base_prefix
    if on_path and Path(on_path).resolve() == script.resolve() and (activated or not in_venv):
        return "tinylift"
    try:
        near = os.path.relpath(script)
    except ValueError:  # another drive (Windows)
        near = ".."
    return near if not near.startswith("..") else str(script.resolve())
