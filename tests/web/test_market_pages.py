"""The market-test pages, served from the demo workspace's markets.yml and series."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.web.conftest import sign_in


def test_market_pages_show_the_tests_and_a_scorecard(app_client: TestClient) -> None:
    sign_in(app_client, "vic")  # a viewer reads them
    listing = app_client.get("/markets")
    assert listing.status_code == 200
    assert 'data-test="pkg-eco-box"' in listing.text
    assert 'data-test="retail-accessory-display"' in listing.text
    page = app_client.get("/markets/pkg-eco-box")
    assert page.status_code == 200
    for part in ('id="recommendation"', 'data-metric="sell_through"', 'data-metric="returns"',
                 'id="fig-paths"', 'id="fig-placebo"', 'id="fig-weights"'):  # fmt: skip
        assert part in page.text, part
    rollout = app_client.get("/markets/retail-accessory-display")
    assert 'id="fig-event"' in rollout.text
    assert "Two-way fixed effects would report" in rollout.text
    assert app_client.get("/markets/nope").status_code == 404
    app_client.cookies.clear()
    assert app_client.get("/markets", follow_redirects=False).status_code in (303, 401)


def test_market_tests_over_the_api(app_client: TestClient) -> None:
    csrf = sign_in(app_client, "vic")
    listed = app_client.get("/api/v1/markets")
    assert listed.status_code == 200
    assert [t["key"] for t in listed.json()] == ["pkg-eco-box", "retail-accessory-display"]
    card = app_client.get("/api/v1/markets/pkg-eco-box", params={"draws": 99})
    assert card.status_code == 200
    body = card.json()
    assert [r["metric"] for r in body["rows"]] == ["sell_through", "returns"]
    assert body["decision"]["recommendation"] in ("ship", "keep running")
    assert app_client.get("/api/v1/markets/nope").status_code == 404
    decision = {"outcome": "ship", "why": "returns fell"}
    headers = {"X-CSRF-Token": csrf}
    assert app_client.post("/api/v1/markets/pkg-eco-box/decision", json=decision,
                           headers=headers).status_code == 403  # fmt: skip
    csrf = sign_in(app_client, "pat")
    r = app_client.post(
        "/api/v1/markets/pkg-eco-box/decision", json=decision, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 201
    assert r.json() == {"key": "pkg-eco-box", "outcome": "ship", "reason": "returns fell",
                        "decided_by": "pat"}  # fmt: skip
