"""Who is asking: session cookies, form tokens (CSRF) and sign-in throttling."""

from __future__ import annotations

import hmac
import threading
import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import Depends, Header, Request

from tinylift.errors import Forbidden, TinyliftError, Unauthorized
from tinylift.service.users import SignedIn, session_of
from tinylift.service.workspace import Workspace

__all__ = [
    "COOKIE",
    "LoginRequired",
    "Throttle",
    "TooManyAttempts",
    "api_team_writer",
    "api_user",
    "api_writer",
    "check_csrf",
    "page_editor",
    "page_team_editor",
    "page_user",
    "workspace_of",
]

#: The session cookie (HttpOnly, SameSite=Lax, Secure behind TLS).
COOKIE = "tinylift_session"


class LoginRequired(Exception):
    """A page asked for without a session: the answer is the sign-in page."""


class TooManyAttempts(TinyliftError):
    """Too many failed sign-ins from one address for one name."""

    http_status = 429


class Throttle:
    """At most ``attempts`` failed sign-ins per address and name in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        q = self._failures[key]
        while q and q[0] < time.monotonic() - self.window:
            q.popleft()
        return q

    def check(self, address: str, handle: str) -> None:
        """Raise TooManyAttempts while this address and name are locked out."""
        with self._lock:
            q = self._recent((address, handle.lower()))
            if len(q) >= self.attempts:
                wait = int(q[0] + self.window - time.monotonic()) + 1
                raise TooManyAttempts(f"too many failed sign-ins; try again in {wait} s")

    def failed(self, address: str, handle: str) -> None:
        """Count one failure."""
        with self._lock:
            self._recent((address, handle.lower())).append(time.monotonic())

    def succeeded(self, address: str, handle: str) -> None:
        """Forget the failures of a name that signed in."""
        with self._lock:
            self._failures.pop((address, handle.lower()), None)


def workspace_of(request: Request) -> Workspace:
    """The workspace the app serves."""
    ws: Workspace = request.app.state.workspace
    return ws


def _current(request: Request) -> SignedIn | None:
    token = request.cookies.get(COOKIE, "")
    return session_of(workspace_of(request), token) if token else None


def page_user(request: Request) -> SignedIn:
    """The signed-in person of a page; otherwise the sign-in page is shown."""
    user = _current(request)
    if user is None:
        raise LoginRequired
    return user


def api_user(request: Request) -> SignedIn:
    """The signed-in person of an API call (401 without a session)."""
    user = _current(request)
    if user is None:
        raise Unauthorized("sign in first (POST /api/v1/session)")
    return user


def check_csrf(user: SignedIn, token: str | None) -> None:
    """Refuse a write whose form token is not the session's."""
    if not token or not hmac.compare_digest(token, user.csrf):
        raise Forbidden("the form token is missing or stale; reload the page and try again")


def api_writer(
    user: Annotated[SignedIn, Depends(api_user)],
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> SignedIn:
    """A signed-in person writing through the API: the X-CSRF-Token header must match."""
    check_csrf(user, x_csrf_token)
    return user


def api_editor(user: Annotated[SignedIn, Depends(api_writer)]) -> SignedIn:
    """An API write only editors and admins may make (checked before the body is read)."""
    if user.role not in ("editor", "admin"):
        raise Forbidden(f"a {user.role} cannot change launch plans")
    return user


def _team_of(request: Request, key: str) -> str:
    from tinylift.service.experiments import show_experiment

    return show_experiment(workspace_of(request), key).experiment.team


def api_team_writer(
    request: Request, key: str, user: Annotated[SignedIn, Depends(api_writer)]
) -> SignedIn:
    """An API write on experiment ``key``: the person may change that team's work
    (checked before the body is read, so a guess at another team's id learns nothing)."""
    user.require_edit(_team_of(request, key))
    return user


def page_team_editor(
    request: Request, key: str, user: Annotated[SignedIn, Depends(page_user)]
) -> SignedIn:
    """A form posted on experiment ``key``'s page by someone who may change it."""
    user.require_edit(_team_of(request, key))
    return user


def page_editor(user: Annotated[SignedIn, Depends(page_user)]) -> SignedIn:
    """A form only editors and admins may post (before the form is read)."""
    if user.role not in ("editor", "admin"):
        raise Forbidden(f"a {user.role} cannot change experiments")
    return user
