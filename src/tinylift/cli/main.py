"""Entry point of the ``tinylift`` command.

Errors a user can cause (``TinyliftError`` and click's usage errors) print as
one line on standard error with exit code 2; anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from tinylift.cli import analyze, calc, collect, demo, experiments, metrics, records, warehouse
from tinylift.errors import TinyliftError

__all__ = ["app", "main"]

app = typer.Typer(
    name="tinylift",
    help="Experimentation for teams that grow by many small, disciplined experiments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("demo")(demo.demo)
app.add_typer(calc.app, name="calc")
app.add_typer(metrics.app, name="metrics")
app.command("ingest")(warehouse.ingest)
app.command("refresh")(warehouse.refresh)
app.command("collect")(collect.collect)
app.add_typer(experiments.teams, name="teams")
app.add_typer(experiments.app, name="experiments")
app.command("analyze")(analyze.analyze)
app.command("decide")(analyze.decide)
app.command("report")(analyze.report)
app.add_typer(records.anecdote, name="anecdote")
app.add_typer(records.learnings, name="learnings")


@app.callback()
def _root() -> None:
    """Experimentation for teams that grow by many small, disciplined experiments."""


err = Console(stderr=True, highlight=False)


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        result = app(args=argv, prog_name="tinylift", standalone_mode=False)
    except TinyliftError as exc:
        _fail(str(exc))
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        return 130
    except typer.TyperException as exc:
        if exc.format_message():
            _fail(exc.format_message())
        return int(exc.exit_code)
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
