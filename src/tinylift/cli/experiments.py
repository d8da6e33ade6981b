"""``tinylift teams`` and ``tinylift experiments``: the registry's experiments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tinylift.cli.shared import DirOpt, JsonOpt, parse_time, workspace
from tinylift.errors import ConfigError

teams = typer.Typer(help="Teams that own experiments.", no_args_is_help=True)
app = typer.Typer(
    help="Experiments and holdouts in the registry: create, start, stop, import, export.",
    no_args_is_help=True,
)
out = Console()
STATUS_STYLE = {"draft": "dim", "running": "green", "stopped": "yellow", "decided": "cyan"}
STATUSES = tuple(STATUS_STYLE)


@teams.command("list")
def teams_list(dir: DirOpt = None) -> None:
    """Every team."""
    from tinylift.service import experiments

    table = Table(title="teams")
    for col in ("key", "name", "description"):
        table.add_column(col)
    for row in experiments.list_teams(workspace(dir)):
        table.add_row(*row)
    out.print(table)


@teams.command("add")
def teams_add(
    key: Annotated[str, typer.Argument(help="Short key, e.g. growth.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    description: Annotated[str, typer.Option(help="What the team does.")] = "",
    dir: DirOpt = None,
) -> None:
    """Add a team."""
    from tinylift.service import experiments

    experiments.add_team(workspace(dir), key, name=name, description=description)
    out.print(f"team [bold]{key}[/] added")


@app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help=f"Only this status ({', '.join(STATUSES)}).")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only this team's experiments.")] = None,
    dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Experiments, newest first."""
    from tinylift.service import experiments

    rows = experiments.list_experiments(workspace(dir), status=status, team=team)
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    table = Table(title=f"{len(rows)} experiment{'s' if len(rows) != 1 else ''}")
    for col in ("key", "name", "team", "area", "status", "started"):
        table.add_column(col, no_wrap=col in ("key", "status"))
    for r in rows:
        style = STATUS_STYLE[r.status]
        started = r.started_at.date().isoformat() if r.started_at else ""
        kind = " [dim](holdout)[/]" if r.kind == "holdout" else ""
        table.add_row(r.key, r.name + kind, r.team, r.area, f"[{style}]{r.status}[/]", started)
    out.print(table)


@app.command("show")
def show(
    key: Annotated[str, typer.Argument(help="Experiment key.")],
    dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One experiment's design and status."""
    from tinylift.service import experiments

    detail = experiments.show_experiment(workspace(dir), key)
    pub = detail.experiment
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
        ("kind", pub.kind),
        ("hypothesis", pub.hypothesis),
        ("team / owner", f"{pub.team} / {pub.owner or '-'}"),
        ("area / layer", f"{pub.area} / {layer_text}"),
        ("variants", variants),
        ("coverage", f"{pub.coverage:.0%} of all units"),
        ("targeting", _targeting(pub.targeting, pub.condition)),
        ("hashed", f"{pub.hash_attribute} (hash version {pub.hash_version})"),
        ("OEC", pub.oec or "(the catalog's)"),
        ("secondary", ", ".join(pub.secondary) or "-"),
        ("guardrails", ", ".join(pub.guardrails) or "-"),
        (
            "plan",
            f"{pub.planned_units or '-'} units, {pub.planned_days or '-'} days"
            + (f", MDE {pub.planned_mde:.1%}" if pub.planned_mde else ""),
        ),
    ):
        table.add_row(label, value)
    for n, start, end in detail.phases:
        table.add_row(f"phase {n}", f"{start:%Y-%m-%d} to {f'{end:%Y-%m-%d}' if end else 'now'}")
    if detail.latest:
        rec, cutoff, count = detail.latest
        table.add_row("analysis", f"{rec} (data to {cutoff:%Y-%m-%d}; {count} snapshots)")
    if detail.decision:
        outcome, variant, by, why = detail.decision
        table.add_row(
            "decision", f"[bold]{outcome}[/]{f' {variant}' if variant else ''} by {by}: {why}"
        )
    for when, who, field, old, new, why in detail.changes:
        table.add_row(
            f"corrected {when:%Y-%m-%d}", f"{field}: {old or '-'} -> {new or '-'} by {who}: {why}"
        )
    out.print(table)


def _split(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _targeting(targeting: dict[str, Any], condition: dict[str, Any]) -> str:
    parts = [f"{k} in {', '.join(map(str, v))}" for k, v in targeting.items()]
    if condition:
        parts.append(json.dumps(condition, ensure_ascii=False))
    return escape("; ".join(parts)) or "everyone"


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
    planned_mde: Annotated[
        float | None,
        typer.Option(
            help="Smallest relative effect worth detecting (0.02 = 2 %); within it, flat."
        ),
    ] = None,
    holdout: Annotated[
        bool,
        typer.Option("--holdout", help="A holdout: its first variant is kept from all launches."),
    ] = False,
    condition: Annotated[
        str | None,
        typer.Option(
            help="Targeting as a GrowthBook condition in JSON, "
            'e.g. \'{"country": {"$in": ["US"]}}\'.'
        ),
    ] = None,
    hash_attribute: Annotated[
        str, typer.Option(help="The attribute randomised (id; company_id for B2B tests).")
    ] = "id",
    hash_version: Annotated[int, typer.Option(help="GrowthBook's hash version, 1 or 2.")] = 2,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="A YAML file with the design (the import format) instead."),
    ] = None,
    dir: DirOpt = None,
) -> None:
    """Register a draft experiment (checked against the metric catalog)."""
    from tinylift.service import experiments

    ws = workspace(dir)
    if file is not None:
        keys = experiments.import_experiments(ws, file)
        out.print(f"registered {', '.join(f'[bold]{k}[/]' for k in keys)}")
        return
    if key is None or team is None:
        raise ConfigError("give the experiment's key and --team, or --file", parameter="key")
    names = _split(variants)
    try:
        w = [float(x) for x in _split(weights)] if weights else [1.0] * len(names)
        bounds = [float(x) for x in _split(layer_range)] if layer_range else None
    except ValueError:
        raise ConfigError(
            "give numbers separated by commas", parameter="--weights / --layer-range"
        ) from None
    if bounds is not None and len(bounds) != 2:
        raise ConfigError("give the slice as start,end", parameter="--layer-range")
    if len(w) != len(names):
        raise ConfigError(f"{len(names)} variants but {len(w)} weights", parameter="--weights")
    try:
        cond = json.loads(condition) if condition else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"not JSON: {exc.msg} at character {exc.pos}", parameter="--condition"
        ) from None
    spec: dict[str, Any] = {
        "key": key,
        "kind": "holdout" if holdout else "experiment",
        "name": name or key,
        "team": team,
        "hypothesis": hypothesis,
        "area": area,
        "layer": layer,
        "layer_range": tuple(bounds) if bounds else None,
        "coverage": coverage,
        "variants": [{"key": k, "weight": x} for k, x in zip(names, w, strict=True)],
        "oec": oec,
        "secondary": _split(secondary),
        "guardrails": _split(guardrails),
        "planned_units": planned_units,
        "planned_days": planned_days,
        "planned_mde": planned_mde,
        "condition": cond,
        "hash_attribute": hash_attribute,
        "hash_version": hash_version,
    }
    experiments.create_experiment(ws, spec)
    out.print(f"experiment [bold]{key}[/] registered as a draft")


@app.command("start")
def start(
    key: Annotated[str, typer.Argument(help="Experiment key.")],
    at: Annotated[str | None, typer.Option(help="When it started (default: now).")] = None,
    dir: DirOpt = None,
) -> None:
    """Start a draft: its data count from now (or --at)."""
    from tinylift.service import experiments

    experiments.start_experiment(workspace(dir), key, at=parse_time(at, parameter="--at"))
    out.print(f"experiment [bold]{key}[/] is [green]running[/]")


@app.command("stop")
def stop(
    key: Annotated[str, typer.Argument(help="Experiment key.")],
    at: Annotated[str | None, typer.Option(help="When it stopped (default: now).")] = None,
    dir: DirOpt = None,
) -> None:
    """Stop a running experiment: no more units enter it."""
    from tinylift.service import experiments

    experiments.stop_experiment(workspace(dir), key, at=parse_time(at, parameter="--at"))
    out.print(f"experiment [bold]{key}[/] is [yellow]stopped[/]; decide it with tinylift decide")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="experiments.yml (or any file of that format).")],
    dir: DirOpt = None,
) -> None:
    """Register every experiment of a file, started and stopped at its recorded times."""
    from tinylift.service import experiments

    keys = experiments.import_experiments(workspace(dir), file)
    out.print(f"{len(keys)} experiment{'s' if len(keys) != 1 else ''} imported")


@app.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")] = Path(
        "experiments.yml"
    ),
    dir: DirOpt = None,
) -> None:
    """Write every experiment and holdout to a file that import reads back."""
    from tinylift.service import experiments

    n = experiments.export_experiments(workspace(dir), output)
    out.print(f"{n} experiment{'s' if n != 1 else ''} written to {output}")


@app.command("edit")
def edit(
    key: Annotated[str, typer.Argument(help="Experiment key.")],
    why: Annotated[str, typer.Option("--why", help="Why it is corrected (kept in its history).")],
    started_at: Annotated[
        str | None, typer.Option(help="When it really started (date or time).")
    ] = None,
    stopped_at: Annotated[
        str | None, typer.Option(help="When enrolment really ended (date or time).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Readable name.")] = None,
    hypothesis: Annotated[str | None, typer.Option(help="What you expect, and why.")] = None,
    planned_units: Annotated[int | None, typer.Option(help="Planned sample, in units.")] = None,
    planned_days: Annotated[int | None, typer.Option(help="Planned duration, in days.")] = None,
    planned_mde: Annotated[
        float | None, typer.Option(help="Smallest relative effect worth detecting.")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who corrects it.")] = "cli",
    dir: DirOpt = None,
) -> None:
    """Correct an experiment's dates, plan or wording (each change is kept, with why)."""
    from tinylift.service import experiments

    changes = {
        "started_at": parse_time(started_at, parameter="--started-at"),
        "stopped_at": parse_time(stopped_at, parameter="--stopped-at"),
        "name": name,
        "hypothesis": hypothesis,
        "planned_units": planned_units,
        "planned_days": planned_days,
        "planned_mde": planned_mde,
    }
    given = {k: v for k, v in changes.items() if v is not None}
    experiments.edit_experiment(workspace(dir), key, given, by=by, reason=why)
    out.print(
        f"experiment [bold]{key}[/] corrected ({', '.join(given)}); stored analyses are kept, "
        f"run tinylift analyze {key} for one with the corrected design"
    )


@app.command("delete")
def delete(
    key: Annotated[str, typer.Argument(help="Experiment key.")],
    dir: DirOpt = None,
) -> None:
    """Remove an experiment that has no analysis and no decision on record."""
    from tinylift.service import experiments

    experiments.delete_experiment(workspace(dir), key)
    out.print(f"experiment [bold]{key}[/] deleted")
