"""Every command and setting is documented (datasette's test_docs idea)."""

from __future__ import annotations

from pathlib import Path

from typer import _click as click
from typer.core import TyperGroup

from tinylift.cli.main import COMMANDS, load_command
from tinylift.config import describe_settings

ROOT = Path(__file__).resolve().parents[1]


def _walk(command: click.Command, name: str) -> list[str]:
    if isinstance(command, TyperGroup):
        return [n for sub, cmd in command.commands.items() for n in _walk(cmd, f"{name} {sub}")]
    return [name]


def _commands() -> list[str]:
    """Every command a user can run, groups expanded (``experiments create`` ...)."""
    return [n for name in COMMANDS for n in _walk(load_command(name), name)]


def test_every_command_appears_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    names = _commands()
    assert len(names) >= 25, names  # the walk found the commands
    for name in names:
        assert f"tinylift {name}" in readme, name


def test_every_setting_is_in_docs_settings() -> None:
    text = (ROOT / "docs" / "settings.md").read_text()
    for name, _default, help_text in describe_settings():
        assert f"`{name}`" in text, name
        assert help_text in text, name
