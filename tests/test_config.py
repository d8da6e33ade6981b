from __future__ import annotations

from pathlib import Path

import pytest

from tinylift.config import WORKSPACE_FILE, describe_settings, load_settings
from tinylift.errors import ConfigError


def test_workspace_file_is_read(tmp_path: Path) -> None:
    (tmp_path / WORKSPACE_FILE).write_text("alpha: 0.01\n")
    assert load_settings(tmp_path).alpha == 0.01


def test_environment_outranks_the_workspace_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / WORKSPACE_FILE).write_text("alpha: 0.01\n")
    monkeypatch.setenv("TINYLIFT_ALPHA", "0.1")
    assert load_settings(tmp_path).alpha == 0.1


def test_explicit_arguments_outrank_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINYLIFT_ALPHA", "0.1")
    assert load_settings(tmp_path, alpha=0.2).alpha == 0.2


def test_out_of_range_setting_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / WORKSPACE_FILE).write_text("alpha: 3\n")
    with pytest.raises(ConfigError, match=r"^alpha: "):
        load_settings(tmp_path)


def test_unknown_setting_is_rejected(tmp_path: Path) -> None:
    (tmp_path / WORKSPACE_FILE).write_text("alhpa: 0.1\n")
    with pytest.raises(ConfigError, match="alhpa"):
        load_settings(tmp_path)


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / WORKSPACE_FILE).write_text("alpha: [0.1\n")
    with pytest.raises(ConfigError, match=WORKSPACE_FILE):
        load_settings(tmp_path)


def test_every_setting_has_help_text() -> None:
    for name, _default, text in describe_settings():
        assert text, f"setting {name} has no description"
