"""Entry point of the ``tinylift`` command.

Commands are registered by name and imported only when invoked (click's lazily
loading group), so ``tinylift --help`` and ``tinylift calc ...`` start without
the registry, the warehouse or the report renderer. Errors a user can cause
(``TinyliftError`` and click's usage errors) print as one line on standard
error with exit code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NamedTuple

import typer
from typer import _click as click  # typer vendors its own click (0.29+)
from typer.core import TyperGroup

from tinylift.errors import TinyliftError

__all__ = ["COMMANDS", "app", "main"]


class Entry(NamedTuple):
    """Where a command lives and what ``--help`` says of it (without importing it)."""

    module: str
    attr: str
    help: str


#: Every command, in the order ``--help`` lists them.
COMMANDS: dict[str, Entry] = {
    "init": Entry("workspace", "app", "Make a folder a workspace."),
    "demo": Entry("demo", "app", "Simulate a connected-home store's year of experiments."),
    "calc": Entry(
        "calc", "app", "Test results from summary numbers, check a split, plan a sample."
    ),
    "metrics": Entry("metrics", "app", "The metric catalog: one definition per metric."),
    "ingest": Entry("warehouse", "ingest_app", "Validate and load a file of events or exposures."),
    "refresh": Entry("warehouse", "refresh_app", "Sufficient statistics of experiments, one scan."),
    "collect": Entry(
        "collect", "app", "Accept exposures and events over HTTP (owns the warehouse)."
    ),
    "serve": Entry(
        "serve", "app", "Serve the web app, REST API and collector (owns the warehouse)."
    ),
    "users": Entry("users", "users", "People who sign in to the web app."),
    "keys": Entry("users", "keys", "API keys for SDKs and for sending events."),
    "teams": Entry("experiments", "teams", "Teams that own experiments."),
    "experiments": Entry(
        "experiments", "app", "Experiments: create, start, stop, edit, import, export."
    ),
    "analyze": Entry(
        "analyze", "analyze_app", "Refresh, test, check and recommend; store snapshots."
    ),
    "decide": Entry(
        "analyze", "decide_app", "Record the decision on an experiment, with its reasons."
    ),
    "report": Entry("analyze", "report_app", "Write one self-contained HTML report."),
    "anecdote": Entry("records", "anecdote", "Qualitative evidence beside the numbers."),
    "learnings": Entry("records", "learnings", "What the company learned, searchable."),
    "portfolio": Entry(
        "portfolio", "app", "What all the experiments add up to: health, corrected impact."
    ),
    "launch": Entry("launch", "app", "Launch plans: forecast, what-if, record a slip."),
    "markets": Entry("markets", "app", "Market-level tests: design, analyze, decide, list."),
}


def load_command(name: str) -> click.Command:
    """Import one command's module and build its click command."""
    entry = COMMANDS[name]
    module = importlib.import_module(f"tinylift.cli.{entry.module}")
    command = typer.main.get_command(getattr(module, entry.attr))
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """A group whose commands are imported when invoked, not when listed."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help:
            typer.echo(ctx.get_help())  # help on standard output, exit 0
            raise typer.Exit(0)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        return load_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, entry.help) for name, entry in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="tinylift",
    cls=LazyGroup,
    help="Experimentation for teams that grow by many small, disciplined experiments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root() -> None:
    """Experimentation for teams that grow by many small, disciplined experiments."""


def _fail(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False).print(
        f"[bold red]error:[/] {escape(message)}", soft_wrap=True
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    # what tinylift writes (raw events with user ids, settings that may hold a
    # password) is its user's alone, whatever the shell's umask
    os.umask(0o077)
    try:
        result: Any = app(args=argv, prog_name="tinylift", standalone_mode=False)
    except TinyliftError as exc:
        _fail(str(exc))
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except typer.TyperException as exc:
        format_message = getattr(exc, "format_message", None)
        message = format_message() if format_message else str(exc)
        if message:
            _fail(message)
        return int(getattr(exc, "exit_code", 2))
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
