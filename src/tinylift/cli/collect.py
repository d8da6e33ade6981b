"""``tinylift collect``: run the event collector for a workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from tinylift.cli.shared import DirOpt, workspace

app = typer.Typer()


@app.command()
def collect(
    dir: DirOpt = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (setting: host).", show_default=False)
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (setting: port).", show_default=False)
    ] = None,
) -> None:
    """Accept exposures and events over HTTP; durable before acknowledging.

    API keys come from TINYLIFT_COLLECTOR_KEYS=a,b or the collector_keys_file
    setting, never from the command line (other users see it in the process
    list). This process owns the workspace's warehouse while it runs: analyze,
    refresh and ingest from other shells send their work to it.
    """
    from tinylift.collector import create_collector
    from tinylift.collector.server import serve

    ws = workspace(dir)
    host = host or ws.settings.host
    port = port or ws.settings.port
    app_ = create_collector(ws, url=f"http://{host}:{port}")
    serve(app_, host=host, port=port, read_timeout=ws.settings.read_timeout)
