from __future__ import annotations

import importlib.resources

import tinylift


def test_root_all_is_sorted_and_importable() -> None:
    names = [n for n in tinylift.__all__ if n != "__version__"]
    assert names == sorted(names)
    for name in tinylift.__all__:
        assert hasattr(tinylift, name), name


def test_package_ships_type_information() -> None:
    assert importlib.resources.files("tinylift").joinpath("py.typed").is_file()
