"""``tinylift serve``: the web app, REST API and collector in one process."""

from __future__ import annotations

from typing import Annotated

import typer

from tinylift.cli.shared import DirOpt, workspace

app = typer.Typer()


@app.command()
def serve(
    dir: DirOpt = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (setting: host).", show_default=False)
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (setting: port).", show_default=False)
    ] = None,
    secure_cookies: Annotated[
        bool, typer.Option(help="Mark the session cookie Secure (when served behind TLS).")
    ] = False,
) -> None:
    """Serve the web app: pages, REST API (/docs), collector and SDK routes.

    This process owns the workspace's warehouse while it runs, as `collect`
    does: analyze, refresh and ingest from other shells send their work to it.
    People sign in with logins made by `tinylift users add`; SDKs and senders
    of events use keys made by `tinylift keys create`.
    """
    from rich.console import Console

    from tinylift.collector.server import serve as run
    from tinylift.web import create_app

    ws = workspace(dir)
    host = host or ws.settings.host
    port = port or ws.settings.port
    app_ = create_app(ws, url=f"http://{host}:{port}", secure_cookies=secure_cookies)
    Console(stderr=True).print(f"tinylift serves {ws.root} at [bold]http://{host}:{port}[/]")
    run(app_, host=host, port=port, read_timeout=ws.settings.read_timeout)
