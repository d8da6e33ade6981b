"""``tinylift init``: make a folder a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer()
out = Console()


@app.command()
def init(
    dir: Annotated[Path, typer.Argument(help="The folder (created when missing).")] = Path("."),
) -> None:
    """Make a folder a workspace: commands run inside it (or with --dir) use it."""
    from tinylift.metrics.catalog import CATALOG_FILE
    from tinylift.service.workspace import Workspace

    ws = Workspace.init(dir)
    out.print(f"workspace [bold]{ws.root}[/] ready (settings in {ws.root / 'tinylift.yml'})")
    if not (ws.root / CATALOG_FILE).exists():
        out.print(
            f"next: write the metric catalog {ws.root / CATALOG_FILE} (see docs/warehouse.md), "
            "then tinylift experiments create and tinylift ingest"
        )
