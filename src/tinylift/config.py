"""Settings, declared once with their help text.

The same declaration feeds environment variables (``TINYLIFT_<NAME>``), the
workspace file ``tinylift.yml`` and the documentation. Resolution order, the
first that sets a value wins: explicit arguments, environment, workspace file,
defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from tinylift.errors import ConfigError, describe_validation

__all__ = ["WORKSPACE_FILE", "Settings", "load_settings"]

#: The settings file that marks a folder as a tinylift workspace.
WORKSPACE_FILE = "tinylift.yml"


class Settings(BaseSettings):
    """Everything tinylift can be configured with, one field per setting."""

    model_config = SettingsConfigDict(
        env_prefix="TINYLIFT_", extra="forbid", frozen=True, validate_default=True
    )

    workspace: Path = Field(
        default=Path("tinylift-demo"),
        description="Folder holding the warehouse, the registry and the metric catalog.",
    )
    warehouse_file: str = Field(
        default="warehouse.duckdb",
        description="The embedded DuckDB warehouse, relative to the workspace.",
    )
    warehouse_memory_limit: str = Field(
        default="6GB",
        pattern=r"^[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="Most memory the embedded warehouse may use; it spills to disk beyond.",
    )
    registry_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the registry (e.g. postgresql+psycopg://host/db); "
        "unset means the SQLite file registry.db in the workspace.",
    )
    alpha: float = Field(
        default=0.05, gt=0, lt=1, description="Significance level for effects (two-sided)."
    )
    srm_alpha: float = Field(
        default=0.001,
        gt=0,
        lt=1,
        description="A sample ratio mismatch is flagged when its p-value falls below this.",
    )
    power: float = Field(
        default=0.8, gt=0, lt=1, description="Target power used when planning sample sizes."
    )
    collector_keys: str | None = Field(
        default=None,
        description="API keys the collector accepts, comma-separated (better: set "
        "TINYLIFT_COLLECTOR_KEYS, or collector_keys_file, than write them into tinylift.yml).",
    )
    collector_keys_file: str | None = Field(
        default=None,
        description="A file holding the collector's API keys, one per line (relative to the "
        "workspace).",
    )
    host: str = Field(
        default="127.0.0.1", description="Address the server (collect, serve) listens on."
    )
    port: int = Field(
        default=8100, ge=1, le=65535, description="Port the server (collect, serve) listens on."
    )

    @property
    def warehouse_path(self) -> Path:
        """Absolute path of the DuckDB warehouse file."""
        return (self.workspace / self.warehouse_file).resolve()

    @property
    def registry_is_file(self) -> bool:
        """The registry is the workspace's own SQLite file."""
        return self.registry_url is None

    @property
    def registry(self) -> str:
        """The registry's SQLAlchemy URL."""
        if self.registry_url:
            return self.registry_url
        return f"sqlite:///{(self.workspace / 'registry.db').resolve()}"


def describe_settings() -> list[tuple[str, str, str]]:
    """(name, default, help) for every setting, for docs and ``--help``."""
    return [
        (name, "unset" if field.default is None else str(field.default), field.description or "")
        for name, field in Settings.model_fields.items()
    ]


def load_settings(workspace: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings for a workspace: its ``tinylift.yml`` under environment and overrides.

    Raises:
        ConfigError: the file is not valid YAML, or a value is out of range; the
            message names the file and the setting.
    """
    values: dict[str, Any] = {}
    if workspace is not None:
        path = Path(workspace) / WORKSPACE_FILE
        if path.exists():
            try:
                loaded = yaml.safe_load(path.read_text()) or {}
            except yaml.YAMLError as exc:
                raise ConfigError(f"{path}: not valid YAML ({exc})") from None
            if not isinstance(loaded, dict):
                raise ConfigError(f"{path}: expected a mapping of setting names to values")
            # The environment outranks the file, as the module docstring says.
            values.update(
                {k: v for k, v in loaded.items() if f"TINYLIFT_{k}".upper() not in os.environ}
            )
        values["workspace"] = Path(workspace)
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        name, message = describe_validation(exc)
        raise ConfigError(message, parameter=name or "settings") from None
