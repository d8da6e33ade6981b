"""A workspace: the folder holding a team's warehouse, registry and catalog."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from tinylift.config import WORKSPACE_FILE, Settings, load_settings
from tinylift.errors import ConfigError

__all__ = ["init_workspace"]


def init_workspace(path: Path | str, **settings: object) -> Settings:
    """Create (or reuse) a workspace folder and return its settings.

    Raises:
        ConfigError: the folder cannot be created or written to; the message
            names the folder.
    """
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} exists and is not a folder", parameter="dir")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {root} ({exc.strerror})", parameter="dir") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write to {root} (permission denied)", parameter="dir")
    file = root / WORKSPACE_FILE
    if not file.exists():
        values = {k: v for k, v in settings.items() if v is not None}
        file.write_text(
            "# tinylift workspace settings; see `tinylift settings` for every option.\n"
            + yaml.safe_dump(values, sort_keys=True)
        )
    return load_settings(root)
