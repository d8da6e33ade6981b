"""``tinylift users`` and ``tinylift keys``: who may sign in, and keys for SDKs and senders."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tinylift.cli.shared import DirOpt, workspace

users = typer.Typer(help="People who sign in to the web app.", no_args_is_help=True)
keys = typer.Typer(help="API keys for SDKs and for sending events.", no_args_is_help=True)
out = Console()


@users.command("add")
def users_add(
    handle: Annotated[str, typer.Argument(help="The user name they sign in with.")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "viewer",
    team: Annotated[
        str | None, typer.Option(help="Limit an editor to this team's experiments.")
    ] = None,
    name: Annotated[str, typer.Option(help="Their full name.")] = "",
    dir: DirOpt = None,
) -> None:
    """Give someone a login. The password is asked for (or read from
    TINYLIFT_PASSWORD), never taken from the command line."""
    from tinylift.service import users as service

    password = os.environ.get("TINYLIFT_PASSWORD") or typer.prompt(
        "Password (10 characters or more)", hide_input=True, confirmation_prompt=True
    )
    who = service.add_user(workspace(dir), handle, password, role=role, team=team, name=name)
    out.print(f"{who.handle} can sign in as {who.role}" + (f" of {who.team}" if who.team else ""))


@users.command("list")
def users_list(dir: DirOpt = None) -> None:
    """Everyone with their role, team and whether they can sign in."""
    from tinylift.service import users as service

    table = Table("user", "name", "role", "team", "can sign in")
    for u in service.list_users(workspace(dir)):
        table.add_row(
            u["handle"], u["name"], u["role"], u["team"] or "", "yes" if u["can_sign_in"] else "no"
        )
    out.print(table)


@users.command("remove")
def users_remove(
    handle: Annotated[str, typer.Argument(help="The user name.")], dir: DirOpt = None
) -> None:
    """Take away someone's login and end their sessions (their records stay)."""
    from tinylift.service import users as service

    service.remove_user(workspace(dir), handle)
    out.print(f"{handle} can no longer sign in")


@keys.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="What the key is for (e.g. ios-app).")],
    scope: Annotated[str, typer.Option(help="collector (send events) or sdk (read the payload).")],
    dir: DirOpt = None,
) -> None:
    """Make a key; it is shown once and kept only as a digest."""
    from tinylift.service import users as service

    key = service.create_key(workspace(dir), name, scope)
    out.print(f"key {name} ({scope}): [bold]{key}[/]  (shown once: keep it now)")


@keys.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Argument(help="The key's name.")], dir: DirOpt = None
) -> None:
    """Stop a key from working."""
    from tinylift.service import users as service

    service.revoke_key(workspace(dir), name)
    out.print(f"key {name} revoked")


@keys.command("list")
def keys_list(dir: DirOpt = None) -> None:
    """Keys by name and scope (never the keys themselves)."""
    from tinylift.service import users as service

    table = Table("name", "scope", "created", "revoked")
    for k in service.list_keys(workspace(dir)):
        table.add_row(k["name"], k["scope"], k["created_at"][:10], "yes" if k["revoked"] else "")
    out.print(table)
