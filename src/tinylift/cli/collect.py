"""``tinylift collect``: run the event collector for a workspace."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from tinylift.errors import ConfigError


def collect(
    dir: Annotated[Path, typer.Option("--dir", help="Workspace folder.")] = Path("tinylift-demo"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
    api_key: Annotated[
        list[str] | None,
        typer.Option(help="An accepted API key (repeat; or TINYLIFT_COLLECTOR_KEYS=a,b)."),
    ] = None,
) -> None:
    """Accept exposures and events over HTTP; durable before acknowledging."""
    import uvicorn

    from tinylift.collector import create_collector

    keys = list(api_key or []) + [
        k for k in os.environ.get("TINYLIFT_COLLECTOR_KEYS", "").split(",") if k
    ]
    if not keys:
        raise ConfigError(
            "give at least one --api-key (or TINYLIFT_COLLECTOR_KEYS)", parameter="--api-key"
        )
    if not dir.is_dir():
        raise ConfigError(f"{dir} is not a workspace folder", parameter="--dir")
    app = create_collector(dir, api_keys=keys)
    uvicorn.run(app, host=host, port=port, log_level="warning")
