"""One owner of the embedded warehouse, and how other processes ask it for work.

DuckDB lets one process write a database file, and while it does no other
process may open it, not even to read. The server (``tinylift collect``, and
next ``tinylift serve``) is that owner: at start it writes ``server.json`` in
the workspace (its pid, address and a fresh token, readable by the owner of
the folder only) and removes it when it stops. A command from another shell
that needs the warehouse (``analyze``, ``refresh``, ``ingest``) finds the
file, and instead of opening the DuckDB file sends the job to the server,
which first loads its spool (so every row acknowledged before the job started
is counted) and then runs the same service call on its own connection.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinylift import errors

if TYPE_CHECKING:
    from tinylift.service.workspace import Workspace

__all__ = ["Owner", "announce", "owner_of", "withdraw"]


@dataclass(frozen=True)
class Owner:
    """The process that owns a workspace's warehouse."""

    pid: int
    url: str
    token: str

    def call(self, job: str, payload: dict[str, Any]) -> Any:
        """Run a job on the owner and return its JSON answer.

        Raises:
            TinyliftError: the job failed for a reason the user can act on (the
                server's own error, of the same class).
            WarehouseError: the server did not answer.
        """
        import httpx

        try:
            response = httpx.post(
                f"{self.url}/api/jobs/{job}",
                json=payload,
                headers={"Authorization": f"Bearer {self.token}"},
                # jobs may take minutes; connecting may not
                timeout=httpx.Timeout(30.0, read=None),
            )
        except httpx.HTTPError as exc:
            raise errors.WarehouseError(
                f"the server that owns this workspace's warehouse (pid {self.pid}, {self.url}) "
                f"did not answer ({exc}); is it still running?"
            ) from None
        if response.status_code >= 400:
            raise _error_from(response)
        return response.json()


def _error_from(response: Any) -> errors.TinyliftError:
    try:
        body = response.json()
        kind, message = body["error"]["type"], body["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return errors.WarehouseError(f"the server answered {response.status_code}")
    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, errors.TinyliftError):
        error = cls.__new__(cls)
        errors.TinyliftError.__init__(error, message)
        return error
    return errors.WarehouseError(message)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def owner_of(ws: Workspace) -> Owner | None:
    """The live owner of the workspace's warehouse, if another process is one."""
    if ws.held is not None:
        return None  # this process owns it
    try:
        doc = json.loads(ws.server_file.read_text())
        owner = Owner(pid=int(doc["pid"]), url=str(doc["url"]), token=str(doc["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if owner.pid == os.getpid() or not _alive(owner.pid):
        return None  # a file left by a server that died
    return owner


def announce(ws: Workspace, url: str) -> Owner:
    """Declare this process the owner (written atomically, private to its user)."""
    owner = Owner(pid=os.getpid(), url=url, token=secrets.token_urlsafe(32))
    tmp = ws.server_file.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"pid": owner.pid, "url": owner.url, "token": owner.token}, f)
    os.replace(tmp, ws.server_file)
    return owner


def withdraw(ws: Workspace, owner: Owner) -> None:
    """Remove the declaration, if it is still this owner's."""
    path: Path = ws.server_file
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return  # gone or replaced by something unreadable: nothing of ours to remove
    if isinstance(doc, dict) and doc.get("token") == owner.token:
        path.unlink(missing_ok=True)
