"""``tinylift metrics``: list, show and validate the metric catalog."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from tinylift.cli.shared import DirOpt, plural, workspace

if TYPE_CHECKING:
    from tinylift.metrics import Catalog

app = typer.Typer(help="The metric catalog: one definition per metric.", no_args_is_help=True)
out = Console()


def _what(m: object, catalog: Catalog) -> str:
    from tinylift.metrics import RatioMetric
    from tinylift.metrics.model import MeanMetric, ProportionMetric, QuantileMetric

    if isinstance(m, RatioMetric):
        num = m.numerator if isinstance(m.numerator, str) else m.numerator.event
        den = m.denominator if isinstance(m.denominator, str) else m.denominator.event  # type: ignore[union-attr]
        return f"{num} / {den}"
    if isinstance(m, (MeanMetric, QuantileMetric)):
        verb = "sum of value" if m.value == "value" else "count"
        extra = f", q{m.quantile:g}" if isinstance(m, QuantileMetric) else ""
        return f"{verb} of {m.event}{extra}"
    assert isinstance(m, ProportionMetric)
    return f"any {m.event}"


@app.command("list")
def list_(dir: DirOpt = None) -> None:
    """Every metric with its type, role and direction."""
    catalog = workspace(dir).catalog()
    table = Table(title=f"{plural(len(catalog), 'metric')} in {catalog.origin}")
    table.add_column("name", no_wrap=True, style="bold")
    table.add_column("type", no_wrap=True)
    table.add_column("role (better)", no_wrap=True)
    table.add_column("window", no_wrap=True)
    table.add_column("measures")
    for m in catalog:
        window = f"{m.window.start_days}-{m.window.end_days} d" + (" +CUPED" if m.cuped else "")
        arrow = "↑" if m.direction == "higher" else "↓"
        table.add_row(m.name, m.type, f"{m.role} {arrow}", window, _what(m, catalog))
    out.print(table)


@app.command()
def show(name: Annotated[str, typer.Argument(help="Metric name.")], dir: DirOpt = None) -> None:
    """One metric's full definition."""
    catalog = workspace(dir).catalog()
    m = catalog.get(name)
    table = Table(title=m.name, show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("description", m.description)
    table.add_row("type", m.type)
    table.add_row("measures", _what(m, catalog))
    table.add_row("role", m.role + (f" (margin {m.margin:.1%})" if m.margin else ""))
    table.add_row("better when", m.direction)
    table.add_row("window", f"days {m.window.start_days} to {m.window.end_days} after entry")
    table.add_row("CUPED", f"{m.cuped.pre_days} days before entry" if m.cuped else "off")
    cap = getattr(m, "cap", None)
    if cap is not None:
        table.add_row("cap", f"{cap.absolute:g}" if cap.absolute else f"p{cap.percentile:g}")
    flt = getattr(m, "filter", None)
    if flt:
        table.add_row("filter", ", ".join(f"{k} = {v!r}" for k, v in flt.items()))
    table.add_row("team", m.team or "")
    out.print(table)


@app.command()
def validate(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="metrics.yml, or a workspace folder (default: the workspace you stand in).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check the catalog; print the first problem with its metric and field."""
    from tinylift.metrics import load_catalog

    catalog = load_catalog(path) if path is not None else workspace(None).catalog()
    out.print(
        f"[green]ok[/]: {plural(len(catalog), 'metric')} in {catalog.origin} "
        f"(version {catalog.version})"
    )
