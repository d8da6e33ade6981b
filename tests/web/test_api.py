"""The REST API and the pages' routes: what each role may do, forms need their token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import DISCOUNT, PASSWORD, sign_in

from tinylift.service import Workspace
from tinylift.service.users import create_key

ANECDOTE = {"text": "Asked about it twice.", "source": "support ticket", "sentiment": "neutral"}


def test_reads_need_a_session(app_client: TestClient) -> None:
    app_client.cookies.clear()
    for path in (
        "/api/v1/experiments",
        f"/api/v1/experiments/{DISCOUNT}",
        "/api/v1/metrics",
        "/api/v1/me",
    ):
        r = app_client.get(path)
        assert r.status_code == 401, path
        assert "sign in" in r.json()["error"]["message"]
    page = app_client.get("/experiments", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=/experiments")


def test_a_wrong_password_is_refused_the_same_way_as_an_unknown_user(
    app_client: TestClient,
) -> None:
    app_client.cookies.clear()
    a = app_client.post("/api/v1/session", json={"handle": "vic", "password": "wrong" * 3})
    b = app_client.post("/api/v1/session", json={"handle": "nobody", "password": "wrong" * 3})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_sign_in_is_throttled(app_client: TestClient) -> None:
    app_client.cookies.clear()
    codes = [
        app_client.post("/api/v1/session", json={"handle": "pat", "password": "x" * 12}).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429, 429]
    # even the right password waits out the lock
    r = app_client.post("/api/v1/session", json={"handle": "pat", "password": PASSWORD})
    assert r.status_code == 429
    app_client.app.state.throttle.succeeded("testclient", "pat")  # type: ignore[attr-defined]


def test_the_list_filters_and_searches_like_the_page(app_client: TestClient) -> None:
    sign_in(app_client, "vic")
    everything = app_client.get("/api/v1/experiments").json()
    assert len(everything) >= 10
    sales = app_client.get("/api/v1/experiments", params={"team": "sales"}).json()
    assert sales
    assert {r["team"] for r in sales} == {"sales"}
    found = app_client.get("/api/v1/experiments", params={"q": "DISCOUNT"}).json()
    assert DISCOUNT in {r["key"] for r in found}
    row = next(r for r in everything if r["key"] == DISCOUNT)
    assert row["oec_verdict"] in ("better", "worse", "flat", "inconclusive")
    assert 0 < row["progress"] <= 1


def test_the_discount_experiment_shows_its_failed_returns_guardrail(
    app_client: TestClient,
) -> None:
    sign_in(app_client, "vic")
    got = app_client.get(f"/api/v1/experiments/{DISCOUNT}").json()
    guard = [r for r in got["results"]["rows"] if r["role"] == "guardrail"]
    assert any(r["metric"] == "return_rate" and r["verdict"] == "worse" for r in guard)
    page = app_client.get(f"/experiments/{DISCOUNT}")
    assert page.status_code == 200
    assert "guardrail failed" in page.text
    assert 'id="forest-data"' in page.text


@pytest.mark.parametrize(
    ("handle", "status"),
    [("vic", 403), ("pat", 403), ("sam", 201), ("ada", 201)],
    ids=["viewer", "editor-of-another-team", "editor-of-the-team", "admin"],
)
def test_who_may_add_an_anecdote(app_client: TestClient, handle: str, status: int) -> None:
    csrf = sign_in(app_client, handle)
    r = app_client.post(
        f"/api/v1/experiments/{DISCOUNT}/anecdotes",
        json={**ANECDOTE, "text": f"noted by {handle}"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == status, r.text


def test_writes_need_the_session_token(app_client: TestClient) -> None:
    sign_in(app_client, "ada")
    r = app_client.post(f"/api/v1/experiments/{DISCOUNT}/anecdotes", json=ANECDOTE)
    assert r.status_code == 403
    assert "token" in r.json()["error"]["message"]
    page = app_client.post(
        f"/experiments/{DISCOUNT}/anecdotes",
        data={**ANECDOTE},
        headers={"Accept": "text/html"},
    )
    assert page.status_code == 403
    app_client.cookies.clear()
    anonymous = app_client.post(f"/api/v1/experiments/{DISCOUNT}/anecdotes", json=ANECDOTE)
    assert anonymous.status_code == 401


def test_admin_routes_refuse_editors(app_client: TestClient) -> None:
    sign_in(app_client, "sam")
    assert app_client.get("/api/v1/users").status_code == 403
    sign_in(app_client, "ada")
    people = app_client.get("/api/v1/users").json()
    assert {p["handle"] for p in people} >= {"ada", "sam", "pat", "vic"}
    assert all("password" not in str(p) for p in people)


def test_api_keys_open_only_their_own_routes(app_client: TestClient, web_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace.open(web_workspace)
    sdk = create_key(ws, "test-sdk", "sdk")
    collector = create_key(ws, "test-collector", "collector")
    app_client.cookies.clear()
    assert app_client.get("/api/sdk/config", headers={"X-API-Key": sdk}).status_code == 200
    assert app_client.get("/api/sdk/config", headers={"X-API-Key": collector}).status_code == 403
    assert app_client.post("/api/events", json=[], headers={"X-API-Key": sdk}).status_code == 403
    assert app_client.post("/api/events", json=[], headers={"X-API-Key": collector}).json() == {
        "accepted": 0,
        "duplicates": 0,
        "rejected": [],
    }
    assert app_client.get("/api/sdk/config", headers={"X-API-Key": "nope"}).status_code == 401


def test_a_decision_goes_into_the_history(app_client: TestClient) -> None:
    csrf = sign_in(app_client, "sam")
    r = app_client.post(
        f"/api/v1/experiments/{DISCOUNT}/decision",
        json={"outcome": "abandon", "rationale": "Returns ate the gain."},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    assert r.json()["recommendation"] == "don't ship"
    again = app_client.post(
        f"/api/v1/experiments/{DISCOUNT}/decision",
        json={"outcome": "ship", "rationale": "changed my mind"},
        headers={"X-CSRF-Token": csrf},
    )
    assert again.status_code == 409
    assert "already decided" in again.json()["error"]["message"]
    page = app_client.get(f"/experiments/{DISCOUNT}").text
    assert "Returns ate the gain." in page


def test_only_editors_open_the_create_page_and_create_for_their_team(
    app_client: TestClient,
) -> None:
    sign_in(app_client, "vic")
    assert app_client.get("/experiments/new").status_code == 403
    csrf = sign_in(app_client, "pat")  # an editor of product
    page = app_client.get("/experiments/new", params={"baseline": "0.05", "mde": "2"})
    assert page.status_code == 200
    assert 'id="plan"' in page.text
    bad = app_client.get("/experiments/new", params={"baseline": "lots", "mde": "2"})
    assert "'lots' is not a number" in bad.text
    form = {"key": "pdp-x", "name": "X", "team": "sales", "csrf": csrf}
    assert app_client.post("/experiments/new", data=form).status_code == 403  # not their team
    made = app_client.post(
        "/experiments/new", data={**form, "team": "product"}, follow_redirects=False
    )
    assert made.status_code == 303
    got = app_client.get("/api/v1/experiments/pdp-x").json()["experiment"]
    assert (got["team"], got["owner"], got["status"]) == ("product", "pat", "draft")


def test_data_health_teams_and_learnings_pages_answer(app_client: TestClient) -> None:
    sign_in(app_client, "vic")
    health = app_client.get("/api/v1/data-health").json()
    assert health["tables"]["exposures"] > 10_000
    assert health["tables"]["events"] > health["tables"]["exposures"]
    assert health["set_aside"] == []
    page = app_client.get("/data").text
    assert "What the warehouse holds" in page
    assert "{:,}".format(health["tables"]["events"]) in page
    teams = app_client.get("/teams").text
    assert "/experiments?team=sales" in teams
    assert app_client.get("/learnings", params={"q": "returns"}).status_code == 200
    assert isinstance(app_client.get("/api/v1/learnings", params={"q": "x"}).json(), list)


def test_an_edit_from_the_page_is_kept_with_who_and_why(app_client: TestClient) -> None:
    csrf = sign_in(app_client, "sam")
    form = app_client.get(f"/experiments/{DISCOUNT}/edit")
    assert form.status_code == 200
    r = app_client.post(
        f"/experiments/{DISCOUNT}/edit",
        data={
            "name": "10 % discount on hubs",
            "planned_days": "35",
            "reason": "ran a week longer",
            "csrf": csrf,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    got = app_client.get(f"/api/v1/experiments/{DISCOUNT}").json()["experiment"]
    assert got["planned_days"] == 35
    page = app_client.get(f"/experiments/{DISCOUNT}").text
    assert "ran a week longer" in page
    sign_in(app_client, "pat")
    assert app_client.get(f"/experiments/{DISCOUNT}/edit").status_code == 403


def test_the_catalog_page_and_api_show_each_definition(app_client: TestClient) -> None:
    sign_in(app_client, "vic")
    metrics = {m["name"]: m for m in app_client.get("/api/v1/metrics").json()}
    assert metrics["return_rate"]["role"] == "guardrail"
    assert sum(m["role"] == "oec" for m in metrics.values()) == 1
    page = app_client.get("/metrics").text
    assert 'id="metric-return_rate"' in page
    assert "after entry" in page
    assert f"/experiments/{DISCOUNT}" in page  # the experiments that use it


def test_experiments_are_created_and_corrected_through_the_api(app_client: TestClient) -> None:
    csrf = sign_in(app_client, "sam")
    headers = {"X-CSRF-Token": csrf}
    body = {
        "key": "sales-api-made",
        "name": "Made by the API",
        "team": "sales",
        "area": "pricing",
        "planned_units": 20_000,
    }
    r = app_client.post("/api/v1/experiments", json=body, headers=headers)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["owner"], made["status"], made["oec"]) == ("sam", "draft", "conversion")
    other = app_client.post(
        "/api/v1/experiments", json={**body, "key": "x2", "team": "product"}, headers=headers
    )
    assert other.status_code == 403
    again = app_client.post("/api/v1/experiments", json=body, headers=headers)
    assert again.status_code == 409
    fixed = app_client.patch(
        "/api/v1/experiments/sales-api-made",
        json={"planned_days": 21, "reason": "two full weeks and a bit"},
        headers=headers,
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["planned_days"] == 21
    listed = app_client.get("/api/v1/experiments", params={"q": "made by the api"}).json()
    assert [r["key"] for r in listed] == ["sales-api-made"]
