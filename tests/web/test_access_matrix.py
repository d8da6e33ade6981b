"""Every write route × every role: who is refused (401/403) and who gets through.

Bodies are deliberately invalid, so a request that passes the checks of who
may do it ends in 422 and changes nothing: 422 means *allowed*.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import DISCOUNT, sign_in

ROLES = ("anonymous", "vic", "pat", "sam", "ada")  # viewer, other team's editor, team editor, admin
ALLOWED = 422
#: route -> expected status per role, in ROLES order
API = {
    ("POST", f"/api/v1/experiments/{DISCOUNT}/anecdotes", '{"sentiment": "bogus"}'): (
        401,
        403,
        403,
        ALLOWED,
        ALLOWED,
    ),
    ("POST", f"/api/v1/experiments/{DISCOUNT}/decision", '{"outcome": "maybe"}'): (
        401,
        403,
        403,
        ALLOWED,
        ALLOWED,
    ),
    ("POST", "/api/v1/experiments/no-such-experiment/decision", '{"outcome": "maybe"}'): (
        401,
        404,
        404,
        404,
        404,
    ),
    ("GET", "/api/v1/users", None): (401, 403, 403, 403, 200),
    ("POST", "/api/v1/markets/pkg-eco-box/decision", '{"outcome": "maybe"}'): (
        401,
        403,
        ALLOWED,
        ALLOWED,
        ALLOWED,
    ),
    ("POST", "/api/v1/launches/hub2-launch/slips", '{"days": -1}'): (
        401,
        403,
        ALLOWED,
        ALLOWED,
        ALLOWED,
    ),
    ("DELETE", "/api/v1/session", None): (401, 204, 204, 204, 204),
}
PAGES = {
    f"/experiments/{DISCOUNT}/anecdotes": (303, 403, 403, ALLOWED, ALLOWED),
    f"/experiments/{DISCOUNT}/decision": (303, 403, 403, ALLOWED, ALLOWED),
    "/experiments/new": (303, 403, ALLOWED, ALLOWED, ALLOWED),
    "/launches": (303, 403, ALLOWED, ALLOWED, ALLOWED),
    "/launches/hub2-launch/slips": (303, 403, ALLOWED, ALLOWED, ALLOWED),
}


def _as(client: TestClient, role: str) -> str:
    if role == "anonymous":
        client.cookies.clear()
        return ""
    return sign_in(client, role)


@pytest.mark.parametrize("route", list(API), ids=[f"{m} {p}" for m, p, _ in API])
def test_api_route_by_role(app_client: TestClient, route: tuple[str, str, str | None]) -> None:
    method, path, body = route
    got = []
    for role in ROLES:
        csrf = _as(app_client, role)
        headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
        r = app_client.request(method, path, content=body, headers=headers)
        got.append(r.status_code)
    assert tuple(got) == API[route], dict(zip(ROLES, got, strict=True))


@pytest.mark.parametrize("path", list(PAGES))
def test_page_form_by_role(app_client: TestClient, path: str) -> None:
    got = []
    for role in ROLES:
        csrf = _as(app_client, role)
        r = app_client.post(path, data={"csrf": csrf}, follow_redirects=False)
        got.append(r.status_code)
    assert tuple(got) == PAGES[path], dict(zip(ROLES, got, strict=True))


def test_a_write_without_the_token_is_refused_for_every_role(app_client: TestClient) -> None:
    for role in ROLES[1:]:
        _as(app_client, role)
        r = app_client.post(
            f"/api/v1/experiments/{DISCOUNT}/anecdotes",
            json={"text": "x", "source": "y", "sentiment": "neutral"},
        )
        assert r.status_code == 403, role
