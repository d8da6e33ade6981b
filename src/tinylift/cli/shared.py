"""What several commands share: the workspace option, JSON output, time parsing.

Imports here stay light (typer and the standard library): every command
module imports this one, and ``tinylift --help`` must start fast.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tinylift.errors import ConfigError

if TYPE_CHECKING:
    from tinylift.service.workspace import Workspace

__all__ = ["DirOpt", "JsonOpt", "parse_time", "plural", "workspace"]


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 experiment``, ``2 experiments`` (``many`` for irregular plurals)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


DirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Workspace folder (default: the folder you stand in, or its nearest parent "
        "holding tinylift.yml).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def workspace(dir: Path | None) -> Workspace:
    """The workspace a command works in: ``--dir``, or the one found from here."""
    from tinylift.service.workspace import Workspace

    return Workspace.open(dir)


def parse_time(text: str | None, *, parameter: str) -> datetime | None:
    """A date (midnight UTC) or an ISO time; times without a zone are UTC."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{text!r} is not a date (2026-03-01) or time (2026-03-01T12:00)", parameter=parameter
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
