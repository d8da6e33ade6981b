"""``tinylift analyze``, ``tinylift decide`` and ``tinylift report``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tinylift.analysis import Scorecard, analyze_registered
from tinylift.cli.scorecard import render, render_summary
from tinylift.cli.shared import (
    DEFAULT_DIR,
    DirOpt,
    JsonOpt,
    engine,
    parse_time,
    registry,
    settings_for,
)
from tinylift.errors import ConfigError
from tinylift.metrics import load_catalog
from tinylift.registry import (
    ExperimentPublic,
    anecdotes_of,
    decision_of,
    get_experiment,
    latest_snapshot,
)
from tinylift.registry import (
    decide as record_decision,
)
from tinylift.registry.models import OUTCOMES
from tinylift.reports import render_report

out = Console()
err = Console(stderr=True)


def analyze(
    experiments: Annotated[
        list[str] | None, typer.Argument(help="Experiment keys (or --all running ones).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every running experiment.")] = False,
    cutoff: Annotated[
        str | None, typer.Option(help="Use data up to this date or time (default: now).")
    ] = None,
    store: Annotated[
        bool, typer.Option("--store/--no-store", help="Keep the result as a snapshot.")
    ] = True,
    dir: DirOpt = DEFAULT_DIR,
    as_json: JsonOpt = False,
) -> None:
    """Refresh, test, check and recommend; each result is stored as a snapshot."""
    if not experiments and not all_:
        raise ConfigError(
            "name an experiment, or give --all for every running one", parameter="experiments"
        )
    settings = settings_for(dir)
    catalog = load_catalog(dir)
    with (
        registry(settings) as reg,
        engine(settings) as eng,
        err.status("Analysing ...") as status,
    ):
        result = analyze_registered(
            reg,
            eng,
            catalog,
            keys=experiments or None,
            cutoff=parse_time(cutoff, parameter="--cutoff"),
            alpha=settings.alpha,
            srm_alpha=settings.srm_alpha,
            store=store,
            on_stage=lambda stage: status.update(f"Analysing: {stage} ..."),
        )
    if as_json:
        print(
            json.dumps(
                {
                    "scorecards": [c.to_dict() for c in result.scorecards.values()],
                    "snapshots": result.snapshots,
                    "failures": result.failures,
                },
                indent=2,
            )
        )
    elif all_ and not experiments:
        render_summary(list(result.scorecards.values()), out)
        out.print("[dim]tinylift analyze KEY shows an experiment's full scorecard[/]")
    else:
        for card in result.scorecards.values():
            render(card, out)
        for key, why in result.failures.items():
            out.print(f"[red]{key}: not analysed[/] — {why}")
        if result.snapshots:
            out.print(f"[dim]{len(result.snapshots)} snapshots stored[/]")
    if result.failures and not result.scorecards:
        raise typer.Exit(1)


def decide(
    experiment: Annotated[str, typer.Argument(help="Experiment key.")],
    outcome: Annotated[str, typer.Argument(help="ship, iterate or abandon.")],
    why: Annotated[str, typer.Option("--why", help="The rationale: what the evidence was.")],
    variant: Annotated[str | None, typer.Option(help="The variant that ships (A/B/n).")] = None,
    by: Annotated[str, typer.Option("--by", help="Who decides.")] = "cli",
    dir: DirOpt = DEFAULT_DIR,
) -> None:
    """Record the decision on an experiment, resting on its latest snapshot."""
    if outcome not in OUTCOMES:
        raise ConfigError(f"choose one of {', '.join(OUTCOMES)}", parameter="outcome")
    with registry(settings_for(dir)) as reg, reg.session() as s:
        d = record_decision(
            s, key=experiment, outcome=outcome, rationale=why, decided_by=by, variant=variant
        )
        rec = d.recommendation
    shipped = f" ({d.variant})" if d.variant else ""
    out.print(f"[bold]{experiment}[/]: decided to [bold]{outcome}[/]{shipped}")
    if rec and (rec == "ship") != (outcome == "ship"):
        out.print(f"[yellow]note:[/] the decision rule recommended '{rec}'; the rationale is kept")


def report(
    experiment: Annotated[str, typer.Argument(help="Experiment key.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path(
        "report.html"
    ),
    dir: DirOpt = DEFAULT_DIR,
) -> None:
    """Write one self-contained HTML report (plots included, works offline)."""
    with registry(settings_for(dir)) as reg, reg.session() as s:
        exp = ExperimentPublic.of(get_experiment(s, key=experiment))
        snap = latest_snapshot(s, key=experiment)
        card = Scorecard.from_dict(snap.results)
        anecdotes = [
            {"sentiment": a.sentiment, "variant": a.variant, "source": a.source, "text": a.text}
            for a in anecdotes_of(s, key=experiment)
        ]
        d = decision_of(s, key=experiment)
        decision = None
        if d is not None:
            decision = {
                "outcome": d.outcome,
                "variant": d.variant,
                "decided_by": d.decided_by,
                "decided_at": d.decided_at.isoformat(),
                "rationale": d.rationale,
            }
        snapshot = {"id": snap.id, "catalog_version": snap.catalog_version, "digest": snap.digest}
    html = render_report(
        card,
        experiment=exp.model_dump(mode="json"),
        anecdotes=anecdotes,
        decision=decision,
        snapshot=snapshot,
    )
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {output} ({exc.strerror})", parameter="--output") from None
    out.print(f"report for [bold]{experiment}[/] written to {output} ({len(html) // 1024:,} KB)")
