"""The interaction the simulated company's year holds, on the pages and in the command."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD

from tinylift.cli.main import main
from tinylift.demo.company import interactions
from tinylift.demo.record import RecordSummary
from tinylift.registry import Registry
from tinylift.service import Workspace
from tinylift.service.users import add_user
from tinylift.web import create_app


@pytest.fixture(scope="module")
def year(
    recorded: tuple[RecordSummary, Registry], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A workspace holding a copy of the large company's analysed and decided year."""
    _, reg = recorded
    path = tmp_path_factory.mktemp("year") / "ws"
    ws = Workspace.init(path)
    (path / "metrics.yml").write_text(files("tinylift.demo").joinpath("metrics.yml").read_text())
    source = sqlite3.connect(reg.engine.url.database)
    target = sqlite3.connect(ws.root / "registry.db")
    source.backup(target)  # a consistent copy, write-ahead log included
    source.close()
    target.close()
    add_user(Workspace.open(path), "vic", PASSWORD, role="viewer")
    return path


@pytest.fixture(scope="module")
def client(year: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Workspace.open(year), load_every=3600)) as c:
        r = c.post("/api/v1/session", json={"handle": "vic", "password": PASSWORD})
        assert r.status_code == 200, r.text
        yield c


def test_the_flagged_pair_is_on_both_experiment_pages_and_the_portfolio(
    client: TestClient, year: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [clash] = interactions()
    api = client.get("/api/v1/portfolio").json()
    [found] = api["interactions"]
    assert {found["a"], found["b"]} == {clash.a, clash.b}
    assert found["metric"] == "conversion"
    assert found["contrast"] < 0
    assert found["p_adjusted"] < 0.05
    page = client.get("/portfolio").text
    assert f'data-interaction="{found["a"]}|{found["b"]}"' in page
    for key, other in ((clash.a, clash.b), (clash.b, clash.a)):
        html = client.get(f"/experiments/{key}").text
        assert f'data-interaction="{other}"' in html
        assert f'href="/experiments/{other}"' in html
        assert "interaction" in html
    assert main(["portfolio", "--dir", str(year), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["interactions"] == api["interactions"]
    assert main(["portfolio", "--dir", str(year)]) == 0
    printed = capsys.readouterr().out
    assert "interaction:" in printed
    assert clash.a in printed
    assert clash.b in printed
