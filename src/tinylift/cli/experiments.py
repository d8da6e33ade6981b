"""``tinylift teams`` and ``tinylift experiments``: the registry's experiments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from tinylift.cli.shared import DEFAULT_DIR, DirOpt, JsonOpt, parse_time, registry, settings_for
from tinylift.errors import ConfigError
from tinylift.metrics import load_catalog
from tinylift.registry import (
    ExperimentPublic,
    create_experiment,
    create_team,
    decision_of,
    get_experiment,
    list_experiments,
    list_teams,
    snapshots_of,
    start_experiment,
    stop_experiment,
)
from tinylift.registry.models import STATUSES

teams = typer.Typer(help="Teams that own experiments.", no_args_is_help=True)
app = typer.Typer(help="Experiments in the registry: create, start, stop.", no_args_is_help=True)
out = Console()
STATUS_STYLE = {"draft": "dim", "running": "green", "stopped": "yellow", "decided": "cyan"}


@teams.command("list")
def teams_list(dir: DirOpt = DEFAULT_DIR) -> None:
    """Every team."""
    with registry(settings_for(dir)) as reg, reg.session() as s:
        table = Table(title="teams")
        for col in ("key", "name", "description"):
            table.add_column(col)
        for t in list_teams(s):
            table.add_row(t.key, t.name, t.description)
    out.print(table)


@teams.command("add")
def teams_add(
    key: Annotated[str, typer.Argument(help="Short key, e.g. growth.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    description: Annotated[str, typer.Option(help="What the team does.")] = "",
    dir: DirOpt = DEFAULT_DIR,
) -> None:
    """Add a team."""
    with registry(settings_for(dir)) as reg, reg.session() as s:
        create_team(s, key=key, name=name, description=description)
    out.print(f"team [bold]{key}[/] added")


@app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help=f"Only this status ({', '.join(STATUSES)}).")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only this team's experiments.")] = None,
    dir: DirOpt = DEFAULT_DIR,
    as_json: JsonOpt = False,
) -> None:
    """Experiments, newest first."""
    if status is not None and status not in STATUSES:
        raise ConfigError(f"choose one of {', '.join(STATUSES)}", parameter="--status")
    with registry(settings_for(dir)) as reg, reg.session() as s:
        rows = [ExperimentPublic.of(e) for e in list_experiments(s, status=status, team=team)]
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    table = Table(title=f"{len(rows)} experiments")
    for col in ("key", "name", "team", "area", "status", "started"):
        table.add_column(col, no_wrap=col in ("key", "status"))
    for r in rows:
        style = STATUS_STYLE[r.status]
        started = r.started_at.date().isoformat() if r.started_at else ""
        table.add_row(r.key, r.name, r.team, r.area, f"[{style}]{r.status}[/]", started)
    out.print(table)


@app.command("show")
def show(
    key: Annotated[str, typer.Argument(help="Experiment key.")],
    dir: DirOpt = DEFAULT_DIR,
    as_json: JsonOpt = False,
) -> None:
    """One experiment's design and status."""
    with registry(settings_for(dir)) as reg, reg.session() as s:
        exp = get_experiment(s, key=key)
        pub = ExperimentPublic.of(exp)
        phases = [(p.number, p.started_at, p.ended_at) for p in exp.phases]
        snaps = snapshots_of(s, key=key)
        last = (snaps[-1].recommendation, snaps[-1].data_cutoff, len(snaps)) if snaps else None
        d = decision_of(s, key=key)
        decided = (d.outcome, d.variant, d.decided_by, d.rationale) if d else None
    if as_json:
        print(json.dumps(pub.model_dump(mode="json"), indent=2))
        return
    table = Table(title=f"{pub.key}: {pub.name}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    variants = ", ".join(f"{v['key']} ({v['weight']:g})" for v in pub.variants)
    layer_text = pub.layer or "-"
    if pub.layer_range:
        layer_text += f" [{pub.layer_range[0]:g}, {pub.layer_range[1]:g})"
    for label, value in (
        ("status", f"[{STATUS_STYLE[pub.status]}]{pub.status}[/]"),
        ("hypothesis", pub.hypothesis),
        ("team / owner", f"{pub.team} / {pub.owner or '-'}"),
        ("area / layer", f"{pub.area} / {layer_text}"),
        ("variants", variants),
        ("coverage", f"{pub.coverage:.0%}"),
        ("OEC", pub.oec or "(the catalog's)"),
        ("secondary", ", ".join(pub.secondary) or "-"),
        ("guardrails", ", ".join(pub.guardrails) or "-"),
        ("plan", f"{pub.planned_units or '-'} units, {pub.planned_days or '-'} days"),
    ):
        table.add_row(label, value)
    for n, start, end in phases:
        table.add_row(f"phase {n}", f"{start:%Y-%m-%d} to {f'{end:%Y-%m-%d}' if end else 'now'}")
    if last:
        rec, cutoff, count = last
        table.add_row("analysis", f"{rec} (data to {cutoff:%Y-%m-%d}; {count} snapshots)")
    if decided:
        outcome, variant, by, why = decided
        table.add_row(
            "decision", f"[bold]{outcome}[/]{f' {variant}' if variant else ''} by {by}: {why}"
        )
    out.print(table)


def _split(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


@app.command("create")
def create(
    key: Annotated[str | None, typer.Argument(help="Experiment key (or give --file).")] = None,
    name: Annotated[str | None, typer.Option(help="Readable name.")] = None,
    team: Annotated[str | None, typer.Option(help="Owning team.")] = None,
    variants: Annotated[
        str, typer.Option(help="Variant keys, control first, comma-separated.")
    ] = "control,treatment",
    weights: Annotated[
        str | None, typer.Option(help="Weights, comma-separated (default: equal).")
    ] = None,
    hypothesis: Annotated[str, typer.Option(help="What you expect, and why.")] = "",
    area: Annotated[str, typer.Option(help="product page, messaging, pricing, ...")] = "other",
    layer: Annotated[str | None, typer.Option(help="Layer for mutual exclusion.")] = None,
    layer_range: Annotated[
        str | None,
        typer.Option(help="Slice of the layer, e.g. 0,0.5 (default: allocated at start)."),
    ] = None,
    coverage: Annotated[
        float | None,
        typer.Option(help="Share of all users to enroll (default: all, or the whole slice)."),
    ] = None,
    oec: Annotated[str | None, typer.Option(help="OEC (default: the catalog's).")] = None,
    secondary: Annotated[
        str | None, typer.Option(help="Secondary metrics, comma-separated.")
    ] = None,
    guardrails: Annotated[
        str | None, typer.Option(help="Guardrail metrics, comma-separated.")
    ] = None,
    planned_units: Annotated[int | None, typer.Option(help="Planned sample, in units.")] = None,
    planned_days: Annotated[int | None, typer.Option(help="Planned duration, in days.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A YAML file with the design instead.")
    ] = None,
    dir: DirOpt = DEFAULT_DIR,
) -> None:
    """Register a draft experiment (checked against the metric catalog)."""
    settings = settings_for(dir)
    spec: dict[str, Any]
    if file is not None:
        try:
            spec = yaml.safe_load(file.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(
                f"{file}: cannot read the design ({exc})", parameter="--file"
            ) from None
        if not isinstance(spec, dict):
            raise ConfigError(f"{file}: expected a mapping of fields", parameter="--file")
    else:
        if key is None or team is None:
            raise ConfigError("give the experiment's key and --team, or --file", parameter="key")
        keys = _split(variants)
        try:
            w = [float(x) for x in _split(weights)] if weights else [1.0] * len(keys)
            bounds = [float(x) for x in _split(layer_range)] if layer_range else None
        except ValueError:
            raise ConfigError(
                "give numbers separated by commas", parameter="--weights / --layer-range"
            ) from None
        if bounds is not None and len(bounds) != 2:
            raise ConfigError("give the slice as start,end", parameter="--layer-range")
        if len(w) != len(keys):
            raise ConfigError(f"{len(keys)} variants but {len(w)} weights", parameter="--weights")
        spec = {
            "key": key,
            "name": name or key,
            "team": team,
            "hypothesis": hypothesis,
            "area": area,
            "layer": layer,
            "layer_range": tuple(bounds) if bounds else None,
            "coverage": coverage
            if coverage is not None
            else (bounds[1] - bounds[0] if bounds else 1.0),
            "variants": [{"key": k, "weight": x} for k, x in zip(keys, w, strict=True)],
            "oec": oec,
            "secondary": _split(secondary),
            "guardrails": _split(guardrails),
            "planned_units": planned_units,
            "planned_days": planned_days,
        }
    catalog = load_catalog(dir)
    if not spec.get("oec") and not any(m.role == "oec" for m in catalog):
        raise ConfigError("name the experiment's OEC (the catalog has none)", parameter="--oec")
    spec.setdefault("oec", None)
    if spec["oec"] is None:
        spec["oec"] = next(m.name for m in catalog if m.role == "oec")
    with registry(settings) as reg, reg.session() as s:
        create_experiment(s, spec=spec, catalog=catalog)
    out.print(f"experiment [bold]{spec['key']}[/] registered as a draft")


@app.command("start")
def start(
    key: Annotated[str, typer.Argument(help="Experiment key.")],
    at: Annotated[str | None, typer.Option(help="When it started (default: now).")] = None,
    dir: DirOpt = DEFAULT_DIR,
) -> None:
    """Start a draft: its data count from now (or --at)."""
    with registry(settings_for(dir)) as reg, reg.session() as s:
        start_experiment(s, key=key, at=parse_time(at, parameter="--at"))
    out.print(f"experiment [bold]{key}[/] is [green]running[/]")


@app.command("stop")
def stop(
    key: Annotated[str, typer.Argument(help="Experiment key.")],
    at: Annotated[str | None, typer.Option(help="When it stopped (default: now).")] = None,
    dir: DirOpt = DEFAULT_DIR,
) -> None:
    """Stop a running experiment: no more data count."""
    with registry(settings_for(dir)) as reg, reg.session() as s:
        stop_experiment(s, key=key, at=parse_time(at, parameter="--at"))
    out.print(f"experiment [bold]{key}[/] is [yellow]stopped[/]; decide it with tinylift decide")
