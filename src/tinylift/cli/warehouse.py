"""``tinylift ingest`` and ``tinylift refresh``: data in, sufficient statistics out."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tinylift.config import load_settings
from tinylift.errors import NotFound
from tinylift.experiments import load_experiments
from tinylift.metrics import load_catalog
from tinylift.stats import fixed_horizon, srm_test
from tinylift.stats.quantile import quantile_test
from tinylift.warehouse.engine import DuckDBEngine
from tinylift.warehouse.ingest import REASONS
from tinylift.warehouse.ingest import ingest as ingest_file
from tinylift.warehouse.refresh import refresh as run_refresh
from tinylift.warehouse.store import Warehouse

out = Console()
DirOpt = Annotated[Path, typer.Option("--dir", help="Workspace folder.")]


class Kind(StrEnum):
    events = "events"
    exposures = "exposures"


def ingest(
    path: Annotated[Path, typer.Argument(help="A Parquet, CSV or JSON Lines file.")],
    kind: Annotated[Kind, typer.Option(help="What the file holds.")],
    dir: DirOpt = Path("tinylift-demo"),
) -> None:
    """Validate and load a file; bad rows go to quarantine with a reason."""
    settings = load_settings(dir)
    known = None
    if kind == Kind.exposures:
        try:
            known = {k: [v.key for v in e.variants] for k, e in load_experiments(dir).items()}
        except NotFound:
            known = None  # no experiment definitions yet: accept any experiment
    with (
        Warehouse(settings.warehouse_path, memory_limit=settings.warehouse_memory_limit) as wh,
        out.status(f"Loading {path.name} ..."),
    ):
        report = ingest_file(wh, path, kind.value, experiments=known)
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
    if report.quarantined:
        out.print("Quarantined rows are in the warehouse table 'quarantine', with file and row.")


def _summary(key: str, stats: Any, catalog: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "experiment": key,
        "units": stats.units,
        "multi_variant_units": stats.multi_variant_units,
        "srm_p_value": None,
        "metrics": [],
    }
    counts = [stats.units[v] for v in stats.variants]
    if min(counts) > 0:
        res["srm_p_value"] = srm_test(counts).p_value
    results = [
        (name, fixed_horizon(mo, cuped=mo.has_covariate))
        for name, mo in stats.metrics.items()
        if mo.n.min() >= 2
    ] + [(name, quantile_test(qs)) for name, qs in stats.quantiles.items()]
    for name, result in results:
        for row in result.records():
            res["metrics"].append(
                {
                    "metric": name,
                    "variant": row["variant"],
                    "rel_effect": row["rel_effect"],
                    "p_value": row["p_value"],
                    "flags": row["flags"],
                }
            )
    return res


def refresh(
    experiments: Annotated[
        list[str] | None, typer.Argument(help="Experiment keys (default: all defined).")
    ] = None,
    dir: DirOpt = Path("tinylift-demo"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compute every experiment's sufficient statistics in one scan of the events."""
    settings = load_settings(dir)
    catalog = load_catalog(dir)
    defined = load_experiments(dir)
    keys = experiments or list(defined)
    missing = [k for k in keys if k not in defined]
    if missing:
        raise NotFound(f"no experiment {missing[0]!r} in {dir / 'experiments.yml'}")
    windows = [defined[k].window(list(catalog.metrics)) for k in keys]
    engine = DuckDBEngine(settings.warehouse_path, memory_limit=settings.warehouse_memory_limit)
    try:
        with out.status(f"Refreshing {len(windows)} experiments in one scan ..."):
            result = run_refresh(engine, catalog, windows)
    finally:
        engine.close()
    summaries = [_summary(k, result.experiments[k], catalog) for k in keys]
    if as_json:
        print(json.dumps(summaries, indent=2))
        return
    table = Table(title=f"{len(keys)} experiments refreshed")
    for col in ("experiment", "units", "SRM p", "metric (lift, p)"):
        table.add_column(col)
    for s in summaries:
        moved = [m for m in s["metrics"] if m["p_value"] is not None and m["p_value"] < 0.05]
        shown = (
            ", ".join(
                f"{m['metric']} {m['rel_effect'] * 100:+.1f}% (p={m['p_value']:.2g})"
                for m in moved[:3]
            )
            or "nothing significant"
        )
        srm = "" if s["srm_p_value"] is None else f"{s['srm_p_value']:.2g}"
        table.add_row(s["experiment"], f"{sum(s['units'].values()):,}", srm, shown)
    out.print(table)
