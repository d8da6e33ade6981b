"""The app factory: the collector's routes, the pages and the REST API on one app.

The process that serves it owns the workspace's embedded warehouse (as the
collector does): it loads the spool, runs analyses and refreshes, and answers
jobs sent by commands in other shells.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from tinylift.collector.app import create_collector, error_response
from tinylift.errors import TinyliftError
from tinylift.service.users import check_key
from tinylift.service.workspace import Workspace
from tinylift.web.auth import LoginRequired, Throttle

__all__ = ["create_app"]

#: No script, style or frame from anywhere else; Plotly needs inline styles.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def create_app(
    ws: Workspace,
    *,
    api_keys: Sequence[str] = (),
    load_every: float = 1.0,
    url: str | None = None,
    secure_cookies: bool = False,
) -> FastAPI:
    """The whole server for a workspace: pages, ``/api/v1``, collector and SDK routes.

    ``secure_cookies`` marks the session cookie Secure (set it behind TLS).
    """
    from tinylift.web import api, launch_pages, market_pages, pages
    from tinylift.web.jobs import Refresher

    async def scheduled(app: FastAPI) -> None:
        minutes = ws.settings.refresh_every_minutes
        if minutes > 0:
            await app.state.refresher.every(minutes)

    app = create_collector(
        ws,
        api_keys=api_keys,
        load_every=load_every,
        url=url,
        key_scope=lambda key: check_key(ws, key),
        title="tinylift",
        background=scheduled,
    )
    app.state.refresher = Refresher(app)
    app.state.workspace = ws
    app.state.secure_cookies = secure_cookies
    app.state.throttle = Throttle()
    static = Path(str(files("tinylift.web").joinpath("static")))
    plotly_js = _plotly_js()

    @app.get("/static/plotly.min.js", include_in_schema=False)
    async def plotly_min_js() -> FileResponse:
        return FileResponse(plotly_js, media_type="text/javascript")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(static / "favicon.svg", media_type="image/svg+xml")

    app.mount("/static", StaticFiles(directory=static), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(launch_pages.router)
    app.include_router(market_pages.router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    def wants_html(request: Request) -> bool:
        return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
            "accept", ""
        )

    @app.exception_handler(TinyliftError)
    async def tinylift_error(request: Request, exc: TinyliftError) -> Response:
        if wants_html(request):
            return pages.error_page(request, exc.http_status, str(exc))
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_html(request):
            return pages.error_page(request, exc.status_code, str(exc.detail))
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
