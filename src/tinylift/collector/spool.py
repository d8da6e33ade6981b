"""A durable spool: accepted rows reach the disk (fsync) before they are acknowledged.

Rows are appended as JSON Lines to a file per kind; a loader moves closed
files into the warehouse through the normal ingestion path (validation,
dedupe by event id, one transaction) and deletes them only after the load
committed. After a crash, files left in the spool are loaded at start-up, so
an acknowledged row is never lost and a row loaded twice is a duplicate.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from tinylift.warehouse.load import LoadReport, ingest
from tinylift.warehouse.store import Warehouse

__all__ = ["Spool"]

log = logging.getLogger("tinylift.collector")

Kind = Literal["events", "exposures"]


class Spool:
    """Append-and-fsync spool files, and their loading into a warehouse."""

    def __init__(self, folder: Path, warehouse: Warehouse) -> None:
        self.folder = folder
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        self.warehouse = warehouse
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._open: dict[str, Any] = {}
        #: Spool files the loader could not store, set aside with the reason.
        self.failures: list[tuple[str, str]] = []

    def _current(self, kind: Kind) -> Any:
        f = self._open.get(kind)
        if f is None:
            name = self.folder / f"{kind}-{time.time_ns()}.jsonl.open"
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            f = os.fdopen(fd, "a", encoding="utf-8")
            self._open[kind] = f
            self._sync_folder()  # the new file's name is durable too
        return f

    def close(self) -> None:
        """Close the files being appended to (their rows stay for the next load)."""
        with self._lock:
            for f in self._open.values():
                f.close()
            self._open.clear()

    def _sync_folder(self) -> None:
        """fsync the spool folder, so created and renamed names survive a power cut."""
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, kind: Kind, rows: Sequence[dict[str, Any]]) -> None:
        """Write rows durably; returns only once they are on disk."""
        if not rows:
            return
        data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
        with self._lock:
            f = self._current(kind)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def _rotate(self) -> list[Path]:
        """Close the open files so they can be loaded; new rows go to new files.

        Renaming happens under the append lock, so no file is renamed while a
        batch is being written to it; files left open by a crash are picked
        up the same way.
        """
        with self._lock:
            for f in self._open.values():
                f.close()
            self._open.clear()
            for p in sorted(self.folder.glob("*.jsonl.open")):
                p.rename(p.with_suffix(""))  # drop ".open"
            self._sync_folder()
        return sorted(self.folder.glob("*.jsonl"))

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold off the loader (for another write on the same warehouse connection)."""
        with self._load_lock:
            yield

    def _set_aside(self, path: Path, exc: Exception) -> None:
        """Keep a file the loader cannot store in ``failed/`` with its reason; go on."""
        failed = self.folder / "failed"
        failed.mkdir(exist_ok=True)
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        path.rename(failed / path.name)
        (failed / f"{path.name}.reason").write_text(reason + "\n")
        self.failures.append((path.name, reason))
        log.error("spool file %s could not be loaded and was set aside: %s", path.name, reason)

    def load(self) -> list[LoadReport]:
        """Load every closed spool file into the warehouse, then delete it."""
        reports = []
        with self._load_lock:
            for path in self._rotate():
                kind: Kind = "events" if path.name.startswith("events") else "exposures"
                if path.stat().st_size == 0:
                    path.unlink()
                    continue
                try:
                    reports.append(ingest(self.warehouse, path, kind))
                except Exception as exc:
                    self._set_aside(path, exc)
                    continue
                path.unlink()  # only after the load committed
        return reports
