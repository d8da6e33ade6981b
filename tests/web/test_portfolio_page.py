"""The portfolio in the web app: the same numbers on the page, in the API and the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import sign_in

from tinylift.cli.main import main
from tinylift.service import Workspace
from tinylift.service.portfolio import portfolio


def test_the_api_page_and_command_agree(
    app_client: TestClient, web_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in(app_client, "vic")  # a viewer may read it
    api = app_client.get("/api/v1/portfolio")
    assert api.status_code == 200, api.text
    ours = json.loads(json.dumps(portfolio(Workspace.open(web_workspace)).to_dict(), default=str))
    assert api.json() == ours
    assert main(["portfolio", "--dir", str(web_workspace), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == ours
    page = app_client.get("/portfolio")
    assert page.status_code == 200
    html = page.text
    for m in ours["impact"]:
        assert f'data-metric="{m["metric"]}"' in html
    from tinylift.reports.portfolio import figures

    drawn = figures(ours)
    assert html.count('type="application/json"') == len(drawn) > 0
    for fig_id, _, _ in drawn:
        assert f'data-plot="fig-{fig_id}"' in html
    assert f"<strong>{ours['overall']['decided']}</strong> of {ours['overall']['started']}" in html


def test_the_portfolio_needs_a_session(app_client: TestClient) -> None:
    app_client.cookies.clear()
    assert app_client.get("/api/v1/portfolio").status_code == 401
    r = app_client.get("/portfolio", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code in (302, 303)
