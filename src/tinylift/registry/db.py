"""Opening the registry: engine, sessions, migrations.

SQLite in the workspace by default (``Settings.registry``); any SQLAlchemy
URL otherwise (``postgresql+psycopg://user@host/db`` in production). Opening runs the
Alembic migrations up to the newest, so a laptop user never has to.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from tinylift.errors import ConfigError, Conflict, TinyliftError
from tinylift.registry.models import Snapshot

__all__ = ["Registry"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def _private_file(name: str | None) -> None:
    """Create the SQLite file readable by its owner alone (whatever the umask)."""
    if not name or name == ":memory:":
        return
    path = Path(name)
    if path.parent.is_dir():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        path.chmod(0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, decides when transactions begin
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    # concurrent writers wait for each other instead of failing at once
    cur.execute("PRAGMA busy_timeout = 30000")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.close()


class Registry:
    """A connection to the registry database, handing out sessions."""

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        try:
            self.engine: Engine = create_engine(url, future=True)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise ConfigError(
                f"cannot use registry URL {url!r}: {exc}", parameter="registry_url"
            ) from None
        self.url = url
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            _private_file(self.engine.url.database)
            # take the write lock up front: two writers queue instead of one failing
            # when both read first and then both try to write
            event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self._sessions, "before_flush", _snapshots_are_immutable)
        if upgrade:
            self.upgrade()

    # -- migrations ----------------------------------------------------------------

    def _alembic(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def _run(self, fn: Any, revision: str) -> None:
        cfg = self._alembic()
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # many processes opening a fresh registry at once: one migrates, the
                    # others wait for it and then find the schema current
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7201900417)")
                cfg.attributes["connection"] = conn
                fn(cfg, revision)
        except OperationalError as exc:
            raise TinyliftError(
                f"registry at {self.engine.url!r} is unavailable: {exc.orig}"
            ) from None

    def current(self) -> str | None:
        """The schema revision the database is at (None: empty)."""
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head(self) -> str | None:
        """The newest revision this version of tinylift knows."""
        return ScriptDirectory.from_config(self._alembic()).get_current_head()

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema up (to the newest by default); a no-op when current."""
        try:
            if revision == "head" and self.current() == self.head():
                return
        except OperationalError as exc:
            raise TinyliftError(
                f"registry at {self.engine.url!r} is unavailable: {exc.orig}"
            ) from None
        self._run(command.upgrade, revision)

    def downgrade(self, revision: str = "base") -> None:
        """Migrate the schema down (to empty by default)."""
        self._run(command.downgrade, revision)

    # -- sessions ----------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed at the end, rolled back on any error.

        Database-level conflicts (a duplicate key, a concurrent write to the
        same row) surface as :class:`tinylift.errors.Conflict`.
        """
        session = self._sessions()
        try:
            yield session
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise Conflict(_integrity_message(exc)) from None
        except StaleDataError:
            session.rollback()
            raise Conflict(
                "someone else changed this experiment at the same time; reload and try again"
            ) from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _snapshots_are_immutable(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, Snapshot) and session.is_modified(obj):
            raise Conflict(
                f"analysis snapshot {obj.id} is immutable: run the analysis again for new numbers"
            )
    for obj in session.deleted:
        if isinstance(obj, Snapshot):
            raise Conflict(f"analysis snapshot {obj.id} is immutable and cannot be deleted")


def _integrity_message(exc: IntegrityError) -> str:
    text = str(exc.orig).lower()
    if "unique" in text or "duplicate" in text:
        return f"already recorded (duplicate key): {str(exc.orig).splitlines()[0]}"
    return f"the registry refused the change: {str(exc.orig).splitlines()[0]}"
