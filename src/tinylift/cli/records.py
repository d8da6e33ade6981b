"""``tinylift anecdote`` and ``tinylift learnings``: what the numbers alone miss."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tinylift.cli.shared import DirOpt, JsonOpt, plural, workspace

anecdote = typer.Typer(help="Qualitative evidence beside the numbers.", no_args_is_help=True)
learnings = typer.Typer(help="What the company learned, searchable.", no_args_is_help=True)
out = Console()


@anecdote.command("add")
def anecdote_add(
    experiment: Annotated[str, typer.Argument(help="Experiment key.")],
    text: Annotated[str, typer.Option(help="What was said or seen.")],
    source: Annotated[str, typer.Option(help="support ticket, user interview, return reason ...")],
    sentiment: Annotated[str, typer.Option(help="positive, neutral or negative.")],
    variant: Annotated[str | None, typer.Option(help="The variant it is about.")] = None,
    link: Annotated[str | None, typer.Option(help="Where to read more.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who records it.")] = None,
    dir: DirOpt = None,
) -> None:
    """Record an anecdote; the scorecard flags it when it disagrees with the OEC."""
    from tinylift.service import records

    records.add_anecdote(
        workspace(dir),
        experiment,
        {
            "text": text,
            "source": source,
            "sentiment": sentiment,
            "variant": variant,
            "link": link,
            "recorded_by": by,
        },
    )
    out.print(f"anecdote recorded for [bold]{experiment}[/]")


@anecdote.command("list")
def anecdote_list(
    experiment: Annotated[str, typer.Argument(help="Experiment key.")],
    dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """An experiment's anecdotes."""
    from tinylift.service import records

    rows = records.anecdotes(workspace(dir), experiment)
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    table = Table(title=f"{plural(len(rows), 'anecdote')} about {experiment}")
    for col in ("sentiment", "variant", "source", "text"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.sentiment, r.variant or "-", r.source, r.text)
    out.print(table)


@learnings.command("add")
def learnings_add(
    text: Annotated[str, typer.Argument(help="The learning, in a sentence or two.")],
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeat for several).")] = None,
    experiment: Annotated[str | None, typer.Option(help="The experiment it came from.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who records it.")] = None,
    dir: DirOpt = None,
) -> None:
    """Record a learning."""
    from tinylift.service import records

    records.add_learning(workspace(dir), text, tags=tag, key=experiment, by=by)
    out.print("learning recorded")


@learnings.command("search")
def learnings_search(
    text: Annotated[
        str, typer.Argument(help="Words that must all appear (text, tags, experiment).")
    ],
    dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find learnings by words in their text, tags or experiment."""
    from tinylift.service import records

    found = records.search_learnings(workspace(dir), text)
    if as_json:
        print(json.dumps(found, indent=2))
        return
    if not found:
        out.print(f"no learning mentions {text!r}")
        return
    for f in found:
        tags = f" [dim]#{' #'.join(f['tags'])}[/]" if f["tags"] else ""
        source = f"[bold]{f['experiment']}[/]: " if f["experiment"] else ""
        out.print(f"• {source}{f['text']}{tags}")
