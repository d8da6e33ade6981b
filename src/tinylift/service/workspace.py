"""The workspace: one folder, every path and setting a command or the server needs.

A workspace is a folder holding ``tinylift.yml``. Commands find it the way
git, dbt and datasette users expect: ``--dir`` when given, else the
``TINYLIFT_WORKSPACE`` environment variable, else the folder they stand in or
the nearest parent holding ``tinylift.yml``, else ``./tinylift-demo`` (what
``make demo`` builds). Nothing else in tinylift spells a workspace path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tinylift.config import WORKSPACE_FILE, Settings, load_settings
from tinylift.errors import ConfigError

if TYPE_CHECKING:
    from tinylift.metrics import Catalog
    from tinylift.registry import Registry
    from tinylift.warehouse.engine import DuckDBEngine
    from tinylift.warehouse.store import Warehouse

__all__ = ["DEFAULT_WORKSPACE", "Workspace", "find_workspace"]

#: The folder ``make demo`` builds, used when no other workspace is found.
DEFAULT_WORKSPACE = Path("tinylift-demo")


def find_workspace(start: Path | None = None) -> Path | None:
    """The nearest folder, from ``start`` (the current one) upwards, holding tinylift.yml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / WORKSPACE_FILE).is_file():
            return folder
    return None


@dataclass(frozen=True)
class Workspace:
    """A workspace folder and its settings; owns every path below it."""

    root: Path
    settings: Settings
    #: Set in the process that owns the warehouse (the server): its open warehouse.
    held: Warehouse | None = None

    # -- finding and creating --------------------------------------------------

    @classmethod
    def open(cls, dir: Path | str | None = None, **overrides: object) -> Workspace:
        """The workspace named by ``dir``, or found from the current folder.

        Raises:
            ConfigError: the folder does not exist, or no workspace is found;
                the message says how to make one.
        """
        if dir is None:
            env = os.environ.get("TINYLIFT_WORKSPACE")
            found = Path(env) if env else find_workspace()
            if found is None:
                found = DEFAULT_WORKSPACE
                if not found.is_dir():
                    raise ConfigError(
                        "no tinylift workspace here or in any parent folder (none holds "
                        f"{WORKSPACE_FILE}): give --dir, or create one with tinylift demo",
                        parameter="--dir",
                    )
            dir = found
        root = Path(dir)
        if not root.is_dir():
            raise ConfigError(
                f"no workspace folder {root} (create one with tinylift demo)", parameter="--dir"
            )
        return cls(root, load_settings(root, **overrides))

    @classmethod
    def init(cls, dir: Path | str, **settings: object) -> Workspace:
        """Create (or reuse) a workspace folder and open it.

        Raises:
            ConfigError: the folder cannot be created or written to.
        """
        import yaml

        root = Path(dir)
        if root.exists() and not root.is_dir():
            raise ConfigError(f"{root} exists and is not a folder", parameter="--dir")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create {root} ({exc.strerror})", parameter="--dir") from None
        if not os.access(root, os.W_OK | os.X_OK):
            raise ConfigError(f"cannot write to {root} (permission denied)", parameter="--dir")
        root.chmod(0o700)  # a workspace holds user ids and perhaps passwords
        file = root / WORKSPACE_FILE
        if not file.exists():
            values = {k: v for k, v in settings.items() if v is not None}
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(
                    "# tinylift workspace settings; see docs/settings.md for every option.\n"
                    + yaml.safe_dump(values, sort_keys=True)
                )
        return cls.open(root)

    def owned_by(self, warehouse: Warehouse) -> Workspace:
        """This workspace as seen by the process that holds its warehouse open."""
        return replace(self, held=warehouse)

    # -- paths -------------------------------------------------------------------

    @property
    def warehouse_path(self) -> Path:
        """The embedded DuckDB warehouse (the ``warehouse_file`` setting)."""
        return self.settings.warehouse_path

    @property
    def catalog_path(self) -> Path:
        """The metric catalog, ``metrics.yml``."""
        from tinylift.metrics.catalog import CATALOG_FILE

        return self.root / CATALOG_FILE

    @property
    def spool_path(self) -> Path:
        """Where the collector keeps acknowledged rows until they are loaded."""
        return self.root / "spool"

    @property
    def server_file(self) -> Path:
        """Written by the process that owns the warehouse while it runs (see ``owner``)."""
        return self.root / "server.json"

    @property
    def demo_path(self) -> Path:
        """The simulated company's ground truth, when the workspace is a demo."""
        return self.root / "demo"

    @property
    def registry_url(self) -> str:
        """The registry's SQLAlchemy URL."""
        return self.settings.registry

    # -- resources ---------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The metric catalog, validated."""
        from tinylift.metrics import load_catalog

        return load_catalog(self.catalog_path)

    @contextmanager
    def registry(self) -> Iterator[Registry]:
        """The registry, migrated to the newest schema."""
        from tinylift.registry import Registry

        reg = Registry(self.registry_url)
        try:
            yield reg
        finally:
            reg.close()

    @contextmanager
    def engine(self, *, read_only: bool = True) -> Iterator[DuckDBEngine]:
        """The embedded warehouse as a query engine.

        Raises:
            ConfigError: there is no warehouse yet.
        """
        from tinylift.warehouse.engine import DuckDBEngine

        if self.held is not None:
            # the owner reads through a cursor of its own connection (same database)
            eng = DuckDBEngine(connection=self.held.con.cursor(), memory_limit=None)
            try:
                yield eng
            finally:
                eng.close()
            return
        if not self.warehouse_path.exists():
            raise ConfigError(
                f"no warehouse at {self.warehouse_path}: load data first "
                "(tinylift ingest, or tinylift demo)",
                parameter="--dir",
            )
        eng = DuckDBEngine(
            self.warehouse_path,
            read_only=read_only,
            memory_limit=self.settings.warehouse_memory_limit,
        )
        try:
            yield eng
        finally:
            eng.close()

    @contextmanager
    def refresh_engine(self) -> Iterator[tuple[DuckDBEngine, bool]]:
        """The warehouse for a refresh, and whether the refresh may keep its state there.

        The incremental state needs write access: this process owns the
        warehouse, or nobody has it open. Otherwise (another command is reading
        it) the refresh reads everything, read-only.
        """
        from tinylift.errors import WarehouseError
        from tinylift.warehouse.engine import DuckDBEngine

        keep = self.settings.incremental_refresh
        if self.held is not None or not keep or not self.warehouse_path.exists():
            with self.engine() as eng:
                yield eng, keep
            return
        try:
            eng = DuckDBEngine(
                self.warehouse_path,
                read_only=False,
                memory_limit=self.settings.warehouse_memory_limit,
            )
        except WarehouseError:
            with self.engine() as eng:
                yield eng, False
            return
        try:
            yield eng, True
        finally:
            eng.close()

    @contextmanager
    def warehouse(self) -> Iterator[Warehouse]:
        """The embedded warehouse for writing (created when missing)."""
        from tinylift.warehouse.store import Warehouse

        if self.held is not None:
            yield self.held
            return
        with Warehouse(
            self.warehouse_path, memory_limit=self.settings.warehouse_memory_limit
        ) as wh:
            yield wh

    def collector_keys(self, extra: list[str] | None = None) -> list[str]:
        """The API keys the collector accepts: settings, the keys file, and ``extra``.

        Raises:
            ConfigError: the keys file cannot be read.
        """
        keys = list(extra or [])
        keys += [k.strip() for k in (self.settings.collector_keys or "").split(",")]
        if self.settings.collector_keys_file:
            path = self.root / self.settings.collector_keys_file
            try:
                keys += [line.strip() for line in path.read_text().splitlines()]
            except OSError as exc:
                raise ConfigError(
                    f"cannot read {path} ({exc.strerror})", parameter="collector_keys_file"
                ) from None
        return [k for k in dict.fromkeys(keys) if k and not k.startswith("#")]
