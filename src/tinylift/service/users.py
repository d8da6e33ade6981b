"""Use cases of people and keys: accounts, sign-in sessions, API keys.

Passwords are kept as Argon2id hashes with OWASP's parameters (19 MiB,
two passes, one lane); session cookies and API keys as SHA-256 digests, so a
copy of the registry lets nobody sign in. Roles: ``viewer`` reads,
``editor`` also changes experiments (only its own team's when it has a team),
``admin`` also manages people and keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tinylift.errors import Conflict, Forbidden, NotFound, Unauthorized

if TYPE_CHECKING:
    from tinylift.service.workspace import Workspace

__all__ = [
    "SESSION_DAYS",
    "SignedIn",
    "add_user",
    "check_key",
    "create_key",
    "list_keys",
    "list_users",
    "remove_user",
    "revoke_key",
    "session_of",
    "sign_in",
    "sign_out",
]

#: How long a sign-in lasts.
SESSION_DAYS = 7
ROLES = ("viewer", "editor", "admin")
MIN_PASSWORD = 10


def _hasher() -> Any:
    """Argon2id with OWASP's first recommended parameters (m = 19 MiB, t = 2, p = 1)."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """Who a request comes from, and the form token of their session."""

    handle: str
    name: str
    role: str
    team: str | None
    csrf: str = ""

    def may_edit(self, team: str | None) -> bool:
        """Whether this person may change an experiment of ``team``."""
        if self.role == "admin":
            return True
        return self.role == "editor" and (self.team is None or self.team == team)

    def require_edit(self, team: str | None) -> None:
        """Raise Forbidden unless :meth:`may_edit`."""
        if not self.may_edit(team):
            if self.role == "editor":
                raise Forbidden(f"editors of team {self.team!r} cannot change team {team!r}'s work")
            raise Forbidden(f"a {self.role} cannot change experiments")

    def require_admin(self) -> None:
        """Raise Forbidden unless an admin."""
        if self.role != "admin":
            raise Forbidden("only an admin can do this")


def add_user(
    ws: Workspace,
    handle: str,
    password: str,
    *,
    role: str = "viewer",
    team: str | None = None,
    name: str = "",
) -> SignedIn:
    """Give a person a login (a new person, or one known from records).

    Raises:
        ConfigError: a role outside viewer/editor/admin, or a password too short.
        Conflict: the person already has a login.
    """
    from tinylift.errors import ConfigError
    from tinylift.registry import create_user, get_team
    from tinylift.registry.models import User

    if role not in ROLES:
        raise ConfigError(f"choose one of {', '.join(ROLES)}", parameter="role")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(
            f"a password needs at least {MIN_PASSWORD} characters", parameter="password"
        )
    digest = _hasher().hash(password)
    with ws.registry() as reg, reg.session() as s:
        user = s.query(User).filter_by(handle=handle).one_or_none()
        if user is None:
            user = create_user(s, handle=handle, name=name or handle, team=team)
        elif user.password_hash is not None:
            raise Conflict(f"{handle!r} can already sign in (remove them first to reset)")
        elif team is not None:
            user.team_id = get_team(s, key=team).id
        user.role = role
        user.password_hash = digest
        return SignedIn(handle, user.name, role, team)


def list_users(ws: Workspace) -> list[dict[str, Any]]:
    """Everyone the registry knows, with role, team and whether they can sign in."""
    from tinylift.registry.models import Team, User

    with ws.registry() as reg, reg.session() as s:
        teams = {t.id: t.key for t in s.query(Team)}
        return [
            {
                "handle": u.handle,
                "name": u.name,
                "role": u.role,
                "team": teams.get(u.team_id) if u.team_id else None,
                "can_sign_in": u.password_hash is not None,
            }
            for u in s.query(User).order_by(User.handle)
        ]


def remove_user(ws: Workspace, handle: str) -> None:
    """Take away a person's login and sessions (their records stay theirs)."""
    from tinylift.registry.models import User, WebSession

    with ws.registry() as reg, reg.session() as s:
        user = s.query(User).filter_by(handle=handle).one_or_none()
        if user is None or user.password_hash is None:
            raise NotFound(f"no login {handle!r}")
        user.password_hash = None
        s.query(WebSession).filter_by(user_id=user.id).delete()


def _signed_in(s: Any, user: Any, csrf: str = "") -> SignedIn:
    from tinylift.registry.models import Team

    team = s.get(Team, user.team_id).key if user.team_id else None
    return SignedIn(user.handle, user.name, user.role, team, csrf)


#: A hash to verify against when the handle is unknown, so both cases take as long.
_DUMMY: list[str] = []


def sign_in(ws: Workspace, handle: str, password: str) -> tuple[str, SignedIn]:
    """Check a password; returns a new session's cookie value and who signed in.

    Raises:
        Unauthorized: unknown handle or wrong password (the same message for both).
    """
    from argon2.exceptions import VerificationError

    from tinylift.registry.models import User, WebSession

    hasher = _hasher()
    with ws.registry() as reg, reg.session() as s:
        user = s.query(User).filter_by(handle=handle).one_or_none()
        stored = user.password_hash if user is not None else None
        if stored is None:
            if not _DUMMY:
                _DUMMY.append(hasher.hash(secrets.token_hex(16)))
            stored = _DUMMY[0]
        try:
            hasher.verify(stored, password)
            ok = user is not None and user.password_hash is not None
        except VerificationError:
            ok = False
        if not ok or user is None:
            raise Unauthorized("unknown user or wrong password")
        if hasher.check_needs_rehash(stored):
            user.password_hash = hasher.hash(password)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        s.add(
            WebSession(
                token_hash=_digest(token),
                user_id=user.id,
                csrf=csrf,
                created_at=now,
                expires_at=now + timedelta(days=SESSION_DAYS),
            )
        )
        return token, _signed_in(s, user, csrf)


def session_of(ws: Workspace, token: str) -> SignedIn | None:
    """Who holds this session cookie, while it is valid."""
    from tinylift.registry.models import User, WebSession

    if not token:
        return None
    with ws.registry() as reg, reg.session() as s:
        row = s.query(WebSession).filter_by(token_hash=_digest(token)).one_or_none()
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires <= datetime.now(UTC):
            s.delete(row)
            return None
        user = s.get(User, row.user_id)
        if user is None or user.password_hash is None:
            return None
        return _signed_in(s, user, row.csrf)


def sign_out(ws: Workspace, token: str) -> None:
    """End a session (nothing happens for an unknown one)."""
    from tinylift.registry.models import WebSession

    with ws.registry() as reg, reg.session() as s:
        s.query(WebSession).filter_by(token_hash=_digest(token)).delete()


def create_key(ws: Workspace, name: str, scope: str) -> str:
    """A new API key for ``collector`` or ``sdk`` routes; shown once, kept as a digest.

    Raises:
        ConfigError: an unknown scope. Conflict: the name is taken.
    """
    from tinylift.errors import ConfigError
    from tinylift.registry.models import KEY_SCOPES, ApiKey

    if scope not in KEY_SCOPES:
        raise ConfigError(f"choose one of {', '.join(KEY_SCOPES)}", parameter="scope")
    key = f"tl_{scope}_{secrets.token_urlsafe(24)}"
    with ws.registry() as reg, reg.session() as s:
        if s.query(ApiKey).filter_by(name=name).one_or_none() is not None:
            raise Conflict(f"a key named {name!r} exists")
        s.add(ApiKey(name=name, key_hash=_digest(key), scope=scope))
    return key


def revoke_key(ws: Workspace, name: str) -> None:
    """Stop a key from working (it stays listed, revoked)."""
    from tinylift.registry.models import ApiKey

    with ws.registry() as reg, reg.session() as s:
        row = s.query(ApiKey).filter_by(name=name).one_or_none()
        if row is None:
            raise NotFound(f"no key named {name!r}")
        row.revoked_at = datetime.now(UTC)


def list_keys(ws: Workspace) -> list[dict[str, Any]]:
    """Keys by name, with scope and whether revoked (never the key itself)."""
    from tinylift.registry.models import ApiKey

    with ws.registry() as reg, reg.session() as s:
        return [
            {
                "name": k.name,
                "scope": k.scope,
                "created_at": k.created_at.isoformat(),
                "revoked": k.revoked_at is not None,
            }
            for k in s.query(ApiKey).order_by(ApiKey.name)
        ]


def check_key(ws: Workspace, key: str) -> str | None:
    """The scope of a valid, unrevoked key, or None."""
    from tinylift.registry.models import ApiKey

    if not key:
        return None
    with ws.registry() as reg, reg.session() as s:
        row = s.query(ApiKey).filter_by(key_hash=_digest(key)).one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        return str(row.scope) if hmac.compare_digest(row.key_hash, _digest(key)) else None
