"""The workspace is found from the folder you stand in, and every path comes from it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinylift.errors import ConfigError
from tinylift.service import Workspace, find_workspace


def tinylift(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tinylift.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def test_commands_use_the_workspace_they_stand_in(demo_workspace: Path, tmp_path: Path) -> None:
    ws = tmp_path / "mine"
    shutil.copytree(demo_workspace, ws)
    (ws / "notes").mkdir()
    done = tinylift("metrics", "validate", cwd=ws / "notes")  # a parent holds tinylift.yml
    assert done.returncode == 0, done.stderr
    assert str(ws / "metrics.yml") in done.stdout
    done = tinylift("analyze", "--all", "--json", "--no-store", cwd=ws)
    assert done.returncode == 0, done.stderr
    cards = json.loads(done.stdout)["scorecards"]
    assert cards
    assert all(c["experiment"] for c in cards)


def test_outside_any_workspace_the_error_says_how_to_get_one(tmp_path: Path) -> None:
    done = tinylift("metrics", "list", cwd=tmp_path, env={"TINYLIFT_WORKSPACE": ""})
    assert done.returncode == 2
    assert done.stderr.startswith("error: --dir: no tinylift workspace here")
    assert "Traceback" not in done.stderr


def test_find_workspace_walks_up_to_the_nearest_settings_file(tmp_path: Path) -> None:
    outer = Workspace.init(tmp_path / "outer").root
    inner = Workspace.init(outer / "projects" / "inner").root
    (inner / "deep" / "er").mkdir(parents=True)
    assert find_workspace(inner / "deep" / "er") == inner.resolve()
    assert find_workspace(outer / "projects") == outer.resolve()
    assert find_workspace(tmp_path) is None


def test_paths_follow_the_settings(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", warehouse_file="data/store.duckdb")
    assert ws.warehouse_path == (tmp_path / "w" / "data" / "store.duckdb").resolve()
    assert ws.registry_url.endswith("/w/registry.db")
    with pytest.raises(ConfigError, match="no workspace folder"):
        Workspace.open(tmp_path / "missing")


def test_collector_keys_come_from_settings_and_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "w"
    Workspace.init(root, collector_keys_file="keys.txt")
    (root / "keys.txt").write_text("# one per line\nfile-key\n\n")
    monkeypatch.setenv("TINYLIFT_COLLECTOR_KEYS", "env-a, env-b")
    ws = Workspace.open(root)
    assert ws.collector_keys(["arg"]) == ["arg", "env-a", "env-b", "file-key"]
    (root / "keys.txt").unlink()
    with pytest.raises(ConfigError, match="collector_keys_file"):
        Workspace.open(root).collector_keys()
