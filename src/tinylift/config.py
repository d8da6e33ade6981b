"""Settings, declared once with their help text.

The same declaration feeds environment variables (``TINYLIFT_<NAME>``), the
workspace file ``tinylift.yml`` and the documentation. Resolution order, the
first that sets a value wins: explicit arguments, environment, workspace file,
defaults.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from tinylift.errors import ConfigError, describe_validation

__all__ = ["WORKSPACE_FILE", "Settings", "load_settings", "parse_yaml", "read_yaml"]

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
    incremental_refresh: bool = Field(
        default=True,
        description=(
            "Keep every entry's measures in the warehouse and fold in only rows loaded since "
            "the last refresh (exact: the same statistics as a full refresh); false reads "
            "everything on every refresh."
        ),
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
    collector_max_body_mb: float = Field(
        default=16,
        gt=0,
        le=1024,
        description="Largest request body the collector reads, in MB (larger: 413).",
    )
    collector_max_rows: int = Field(
        default=10_000, ge=1, description="Most rows in one batch sent to the collector."
    )
    read_timeout: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="Seconds the server waits for a request's headers and body before closing "
        "the connection (slow or stalled clients).",
    )
    refresh_every_minutes: float = Field(
        default=60,
        ge=0,
        description="How often `tinylift serve` analyses the running experiments, and "
        "`tinylift collect` brings the incremental refresh forward (0: only on demand).",
    )
    alert_webhook: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="URL that alerts (SRM, a failed guardrail, ready to decide) are posted to "
        "as JSON; unset: alerts are only shown on the experiment's page.",
    )
    alert_min_units: int = Field(
        default=1000,
        ge=0,
        description="No alert for an experiment before it has this many units.",
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


#: Limits of a definition file: nesting deeper than this, or a file larger, is refused.
YAML_MAX_DEPTH = 50
YAML_MAX_BYTES = 10 * 1024 * 1024


class _Refused(Exception):
    """Something in a YAML file tinylift does not read (said with its line)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


class _Loader(yaml.SafeLoader):
    """YAML 1.2's core schema for scalars, duplicate keys refused.

    PyYAML follows YAML 1.1, where ``no``, ``yes``, ``on`` and ``off`` are
    booleans and ``1:20`` is the number 80: a filter written ``{answer: no}``
    would silently compare with ``false``. Here only ``true``/``false`` are
    booleans and numbers are written the way JSON and YAML 1.2 write them;
    everything else is text, as the author meant.
    """

    yaml_implicit_resolvers = {  # noqa: RUF012 - how PyYAML keeps its resolvers
        k: [(tag, rx) for tag, rx in v if not tag.endswith((":bool", ":int", ":float"))]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(
                    "merge keys (<<) are not allowed; write the keys out",
                    key_node.start_mark.line + 1,
                )
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: SafeLoader says so itself
                continue
            if duplicate:
                raise _Refused(
                    f"the key {key!r} is given twice in one mapping; give it once",
                    key_node.start_mark.line + 1,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 0) if text.startswith("0x") else int(text, 10)


def _float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).lower()
    if text.endswith((".inf", ".nan")):
        return float(text.replace(".", ""))
    return float(text)


_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor("tag:yaml.org,2002:float", _float)


def parse_yaml(text: str, *, origin: str) -> Any:
    """YAML text as plain data, refusing what only an attack or a slip needs.

    Aliases (``*name``) are refused: a few hundred bytes of nested aliases
    expand to gigabytes (the "billion laughs"). So are nesting deeper than
    :data:`YAML_MAX_DEPTH`, explicit tags (``!!binary``, ``!!python/...``),
    merge keys and a key given twice in one mapping. Scalars follow YAML 1.2
    (``no`` is text, not false). Every error names ``origin`` and the line.

    Raises:
        ConfigError: the text is not YAML, or uses what is refused above.
    """
    if len(text) > YAML_MAX_BYTES:
        raise ConfigError(f"{origin}: larger than {YAML_MAX_BYTES // 2**20} MB; not read")
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark else 0
            if isinstance(event, yaml.AliasEvent):
                raise ConfigError(
                    f"{origin}: YAML aliases (*{event.anchor}, line {line}) are not allowed; "
                    "write the value out where it is used"
                )
            tag = getattr(event, "tag", None)
            if tag not in (None, "!"):
                tag = str(tag).replace("tag:yaml.org,2002:", "!!")
                raise ConfigError(
                    f"{origin}: YAML tags ({tag}, line {line}) are not used in tinylift files; "
                    "write a plain value"
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > YAML_MAX_DEPTH:
                    raise ConfigError(
                        f"{origin}: nested more than {YAML_MAX_DEPTH} levels deep; not read"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.load(text, Loader=_Loader)
    except _Refused as exc:
        where = f" at line {exc.line}" if exc.line is not None else ""
        raise ConfigError(f"{origin}: {exc}{where}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        if isinstance(exc, yaml.reader.ReaderError):
            line = text.count("\n", 0, exc.position) + 1
            raise ConfigError(
                f"{origin}: not valid YAML at line {line} (the character "
                f"U+{exc.character:04X} is not allowed in a YAML file)"
                if isinstance(exc.character, int)
                else f"{origin}: not valid YAML at line {line}"
            ) from None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{origin}: not valid YAML{where} ({problem})") from None


def read_yaml(path: Path, *, parameter: str | None = None) -> Any:
    """A YAML file as plain data (see :func:`parse_yaml`); UTF-8 only.

    Raises:
        ConfigError: the file cannot be read, is not UTF-8, or is refused.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file", parameter=parameter) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})", parameter=parameter) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x}); save it as "
            "UTF-8",
            parameter=parameter,
        ) from None
    return parse_yaml(text, origin=str(path))


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
            loaded = read_yaml(path) or {}
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
