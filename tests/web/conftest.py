"""A served demo workspace with people of every role."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tinylift.service import Workspace
from tinylift.service.users import add_user
from tinylift.web import create_app

PASSWORD = "correct horse battery"
#: handle -> (role, team)
PEOPLE = {
    "ada": ("admin", None),
    "sam": ("editor", "sales"),  # the discount experiment is the sales team's
    "pat": ("editor", "product"),
    "vic": ("viewer", None),
}
DISCOUNT = "price-discount-10"


@pytest.fixture(scope="session")
def web_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's first 66 days: the discount experiment has stopped, its returns
    guardrail has failed, and its decision is still to be made."""
    from tinylift.cli.main import main

    path = tmp_path_factory.mktemp("webdemo") / "ws"
    args = ["--users", "60000", "--days", "66", "--seed", "5", "--no-serve"]
    assert main(["demo", "--dir", str(path), *args]) == 0
    return path


@pytest.fixture(scope="module")
def web_workspace(web_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the web demo with a login for each of PEOPLE."""
    path = tmp_path_factory.mktemp("web") / "ws"
    shutil.copytree(web_demo, path, ignore=shutil.ignore_patterns("server.json", "spool"))
    ws = Workspace.open(path)
    for handle, (role, team) in PEOPLE.items():
        add_user(ws, handle, PASSWORD, role=role, team=team)
    return path


@pytest.fixture(scope="module")
def app_client(web_workspace: Path) -> Iterator[TestClient]:
    app = create_app(Workspace.open(web_workspace), api_keys=["static-key"], load_every=3600)
    with TestClient(app) as client:
        yield client


def sign_in(client: TestClient, handle: str) -> str:
    """Sign in through the API; returns the CSRF token (the cookie stays in the client)."""
    client.cookies.clear()
    r = client.post("/api/v1/session", json={"handle": handle, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf"])
