"""Every command and setting is documented (datasette's test_docs idea)."""

from __future__ import annotations

from pathlib import Path

import typer

from tinylift.cli.main import app
from tinylift.config import describe_settings

ROOT = Path(__file__).resolve().parents[1]


def _commands(t: typer.Typer, prefix: str = "") -> list[str]:
    names = [
        f"{prefix}{c.name or (c.callback.__name__ if c.callback else '')}"
        for c in t.registered_commands
    ]
    for group in t.registered_groups:
        assert group.typer_instance is not None
        names += _commands(group.typer_instance, f"{prefix}{group.name} ")
    return names


def test_every_command_appears_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in _commands(app):
        assert f"tinylift {name.replace('_', '-')}" in readme or f"tinylift {name}" in readme, name


def test_every_setting_is_in_docs_settings() -> None:
    text = (ROOT / "docs" / "settings.md").read_text()
    for name, _default, help_text in describe_settings():
        assert f"`{name}`" in text, name
        assert help_text in text, name
