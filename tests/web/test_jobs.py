"""The server's analysis job: on demand, its progress visible, alerts once per cause."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, sign_in

from tinylift.service import Workspace
from tinylift.service.users import add_user
from tinylift.web import create_app


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP receiver on loopback that keeps what is posted to it."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            """Quiet: the test reads what was posted, not the access log."""

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()
    server.server_close()


def _wait_idle(client: TestClient) -> dict[str, Any]:
    deadline = time.monotonic() + 300  # generous: a loaded machine is slow
    while time.monotonic() < deadline:
        status: dict[str, Any] = client.get("/api/v1/refresh").json()
        if status["state"] == "idle" and status["runs"] > 0:
            return status
        time.sleep(0.5)
    raise AssertionError("the analysis did not finish")


def test_an_analysis_on_demand_raises_each_alert_once(
    web_demo: Path, tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    root = tmp_path / "ws"
    shutil.copytree(web_demo, root, ignore=shutil.ignore_patterns("server.json", "spool"))
    (root / "tinylift.yml").write_text(f"alert_webhook: {url}\nrefresh_every_minutes: 0\n")
    ws = Workspace.open(root)
    add_user(ws, "ed", PASSWORD, role="editor")
    add_user(ws, "vi", PASSWORD, role="viewer")
    with TestClient(create_app(ws, load_every=3600)) as client:
        csrf = sign_in(client, "vi")
        assert client.post("/api/v1/refresh", headers={"X-CSRF-Token": csrf}).status_code == 403
        csrf = sign_in(client, "ed")
        started = client.post("/api/v1/refresh", headers={"X-CSRF-Token": csrf})
        assert started.status_code == 202
        assert client.post("/api/v1/refresh", headers={"X-CSRF-Token": csrf}).status_code in (
            202,  # the first one already finished
            409,  # one at a time
        )
        first = _wait_idle(client)
        assert first["error"] is None
        assert first["analysed"] > 0
        assert received, "no alert reached the webhook"
        assert {a["cause"] for a in received} <= {"srm", "guardrail", "ready"}
        key = received[0]["experiment"]
        shown = client.get(f"/api/v1/experiments/{key}/alerts").json()
        assert shown
        assert all(a["delivered"] for a in shown)
        assert received[0]["message"] in client.get(f"/experiments/{key}").text
        # again: the same causes are not raised twice
        before = len(received)
        client.post("/api/v1/refresh", headers={"X-CSRF-Token": csrf})
        time.sleep(0.2)
        second = _wait_idle(client)
        assert second["runs"] >= 2
        assert len(received) == before
        assert second["alerts"] == 0


def test_the_discount_gives_a_guardrail_alert_but_none_before_the_minimum_sample(
    web_demo: Path,
) -> None:
    from tests.web.conftest import DISCOUNT

    from tinylift.service.alerts import causes
    from tinylift.service.reports import report_context

    card = report_context(Workspace.open(web_demo), DISCOUNT).scorecard
    found = dict(causes(card, min_units=0))
    assert "return_rate" in found["guardrail"]
    assert found["ready"] == "ready to decide: the rule recommends don't ship"
    assert causes(card, min_units=sum(card.units.values()) + 1) == []
