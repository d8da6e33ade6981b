"""The web app: pages, REST API and the collector's routes in one server process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinylift.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from tinylift.web.app import create_app

        return create_app
    raise AttributeError(name)
