"""`tinylift users` and `tinylift keys` through the real entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinylift.cli.main import main
from tinylift.service import Workspace
from tinylift.service.users import check_key, sign_in


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_people_get_logins_and_lose_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d = ["--dir", str(tmp_path)]
    assert main(["init", str(tmp_path)]) == 0
    assert main(["teams", "add", "sales", *d]) == 0
    monkeypatch.setenv("TINYLIFT_PASSWORD", "a long enough password")
    code, out, _ = run(capsys, "users", "add", "ana", "--role", "editor", "--team", "sales", *d)
    assert code == 0
    assert "ana can sign in as editor of sales" in out
    ws = Workspace.open(tmp_path)
    assert sign_in(ws, "ana", "a long enough password")[1].role == "editor"
    code, out, _ = run(capsys, "users", "list", *d)
    assert "ana" in out
    assert "editor" in out
    code, _, err = run(capsys, "users", "add", "ana", *d)
    assert code != 0
    assert "already sign in" in err
    monkeypatch.setenv("TINYLIFT_PASSWORD", "short")
    code, _, err = run(capsys, "users", "add", "bo", *d)
    assert code != 0
    assert "at least 10 characters" in err
    code, _, err = run(capsys, "users", "add", "bo", "--role", "owner", *d)
    assert "viewer, editor, admin" in err
    assert run(capsys, "users", "remove", "ana", *d)[0] == 0
    code, _, err = run(capsys, "users", "remove", "ana", *d)
    assert "no login 'ana'" in err


def test_keys_are_shown_once_and_can_be_revoked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = ["--dir", str(tmp_path)]
    assert main(["init", str(tmp_path)]) == 0
    code, out, _ = run(capsys, "keys", "create", "ios-app", "--scope", "sdk", *d)
    assert code == 0
    key = next(w for w in out.split() if w.startswith("tl_sdk_"))
    ws = Workspace.open(tmp_path)
    assert check_key(ws, key) == "sdk"
    code, out, _ = run(capsys, "keys", "list", *d)
    assert "ios-app" in out
    assert key not in out  # never shown again
    assert run(capsys, "keys", "revoke", "ios-app", *d)[0] == 0
    assert check_key(ws, key) is None
    code, _, err = run(capsys, "keys", "create", "x", "--scope", "admin", *d)
    assert "collector, sdk" in err
