"""The collector's HTTP API: ``POST /api/events`` and ``POST /api/exposures``.

Each request carries a batch (a JSON array of rows in the data model's
shape). Every row is validated; good rows are spooled durably before the
response, bad rows are rejected one by one with the field and the reason.
Requests need an API key (``Authorization: Bearer KEY`` or ``X-API-Key``).

The collector's process owns the workspace's embedded warehouse (see
:mod:`tinylift.service.owner`): commands from other shells send their jobs to
``/api/jobs/...`` with the token of ``server.json``, and each job first
loads the spool, so it counts every row acknowledged before it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
)

from tinylift.collector.rows import (
    RECENT_IDS,
    BadBatch,
    BatchResult,
    KnownExperiments,
    Rejected,
    parse_batch,
    validate_rows,
)
from tinylift.collector.spool import Spool
from tinylift.errors import AnalysisError, ConfigError, TinyliftError
from tinylift.service import analysis, data, owner
from tinylift.service.experiments import features_payload, sdk_config
from tinylift.service.workspace import Workspace
from tinylift.warehouse.store import Warehouse

__all__ = ["create_collector"]

#: Sent with answers given before the body was read: the connection is not reused.
CLOSE = {"Connection": "close"}


class AnalyzeJob(BaseModel):
    """``tinylift analyze`` sent by another process."""

    keys: list[str] = Field(default_factory=list)
    cutoff: AwareDatetime | None = None
    store: bool = True


class RefreshJob(BaseModel):
    """``tinylift refresh`` sent by another process."""

    keys: list[str] = Field(default_factory=list)
    full: bool = False


class IngestJob(BaseModel):
    """``tinylift ingest`` sent by another process (a file on this machine)."""

    path: str
    kind: Literal["events", "exposures", "units", "markets"]
    restate: bool = False


log = logging.getLogger("tinylift.collector")


def refresh_started(ws: Workspace) -> None:
    """Refresh every started experiment (nothing to do when none is started)."""
    try:
        summaries = analysis.refresh(ws)
    except AnalysisError:  # no started experiments yet
        return
    log.info("refreshed %d experiments", len(summaries))


def error_response(exc: TinyliftError) -> JSONResponse:
    """A tinylift error as JSON, with the status its class declares."""
    return JSONResponse(
        {"error": {"type": type(exc).__name__, "message": str(exc)}},
        status_code=exc.http_status,
    )


def create_collector(
    ws: Workspace,
    *,
    api_keys: Sequence[str] = (),
    load_every: float = 1.0,
    url: str | None = None,
    key_scope: Callable[[str], str | None] | None = None,
    title: str = "tinylift collector",
    background: Callable[[FastAPI], Coroutine[Any, Any, None]] | None = None,
) -> FastAPI:
    """The collector app for a workspace; this process owns its warehouse.

    ``api_keys`` adds to the keys of the workspace's settings (they open every
    collector route); ``url`` is where other processes reach it (announced in
    ``server.json`` while it runs). ``key_scope`` looks up other keys (the web
    app's, kept in the registry): a key of scope ``collector`` may send rows, one
    of scope ``sdk`` may read the SDK payload, neither the other's routes.
    ``background`` runs beside the server (the web app's scheduled analyses).
    """
    keys = set(ws.collector_keys(list(api_keys)))
    if not keys and key_scope is None:
        raise ConfigError(
            "the collector needs at least one API key (TINYLIFT_COLLECTOR_KEYS, or the "
            "collector_keys_file setting)",
            parameter="collector_keys",
        )
    state: dict[str, Any] = {}
    recent: OrderedDict[str, None] = OrderedDict()
    registry = KnownExperiments(ws)
    max_body = int(ws.settings.collector_max_body_mb * 2**20)
    max_rows = ws.settings.collector_max_rows
    read_timeout = ws.settings.read_timeout

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warehouse = Warehouse(ws.warehouse_path, memory_limit=ws.settings.warehouse_memory_limit)
        spool = Spool(ws.spool_path, warehouse)
        spool.load()  # rows acknowledged before a crash
        state["spool"] = spool
        state["ws"] = ws.owned_by(warehouse)
        app.state.held = state["ws"]  # for the web app's pages on the same process
        app.state.spool = spool
        me = owner.announce(ws, url) if url else None
        state["owner"] = me

        async def loader() -> None:
            while True:
                await asyncio.sleep(load_every)
                await asyncio.to_thread(spool.load)

        async def refresher(minutes: float) -> None:
            # the incremental refresh, brought forward on a schedule (the web app
            # analyses on its own schedule instead, which brings it forward too)
            while True:
                await asyncio.sleep(minutes * 60)
                try:
                    await asyncio.to_thread(spool.load)
                    await asyncio.to_thread(refresh_started, state["ws"])
                except Exception:  # logged; the collector goes on
                    log.exception("the scheduled refresh failed")

        tasks = [asyncio.create_task(loader())]
        if background is not None:
            tasks.append(asyncio.create_task(background(app)))
        elif ws.settings.refresh_every_minutes > 0:
            tasks.append(asyncio.create_task(refresher(ws.settings.refresh_every_minutes)))
        try:
            yield
        finally:
            if me is not None:
                owner.withdraw(ws, me)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            spool.load()
            warehouse.close()

    app = FastAPI(title=title, lifespan=lifespan)

    @app.exception_handler(TinyliftError)
    async def tinylift_error(request: Request, exc: TinyliftError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer repeats the input; this one names the field only
        problems = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()[:20]
        ]
        return JSONResponse({"detail": problems}, status_code=422)

    async def check_key(key: str, scope: str) -> None:
        if key and key in keys:
            return
        found = await asyncio.to_thread(key_scope, key) if key and key_scope else None
        if found is None:
            raise HTTPException(status_code=401, detail="missing or unknown API key")
        if found != scope:
            raise HTTPException(
                status_code=403, detail=f"this key is for the {found} routes, not {scope}"
            )

    def allowed(scope: str) -> Callable[..., Awaitable[None]]:
        async def check(
            authorization: Annotated[str | None, Header()] = None,
            x_api_key: Annotated[str | None, Header()] = None,
        ) -> None:
            key = x_api_key or (authorization or "").removeprefix("Bearer ").strip()
            await check_key(key, scope)

        return check

    def local_owner(authorization: Annotated[str | None, Header()] = None) -> None:
        me = state.get("owner")
        token = (authorization or "").removeprefix("Bearer ").strip()
        if me is None or not token or token != me.token:
            raise HTTPException(status_code=401, detail="jobs need the token of server.json")

    auth = [Depends(allowed("collector"))]
    sdk_auth = [Depends(allowed("sdk"))]
    job_auth = [Depends(local_owner)]

    async def body_of(request: Request) -> bytes:
        """The request body, read only after the key was checked, bounded in size and time."""
        length = request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise HTTPException(status_code=400, detail="Content-Length is not a number")
            if int(length) > max_body:
                raise HTTPException(
                    status_code=413,
                    detail=f"the body is {int(length):,} bytes; at most {max_body:,} are read "
                    "(send smaller batches)",
                    headers=CLOSE,
                )
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(read_timeout):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > max_body:
                        raise HTTPException(
                            status_code=413,
                            detail=f"the body is over {max_body:,} bytes (send smaller batches)",
                            headers=CLOSE,
                        )
                    chunks.append(chunk)
        except TimeoutError:
            raise HTTPException(
                status_code=408,
                detail=f"the body did not arrive within {read_timeout:g} s",
                headers=CLOSE,
            ) from None
        return b"".join(chunks)

    async def take(kind: Literal["events", "exposures"], request: Request) -> BatchResult:
        body = await body_of(request)

        def check() -> tuple[list[dict[str, Any]], list[Rejected]]:
            rows = parse_batch(body, max_rows)
            return validate_rows(kind, rows, registry.known(rows) if kind == "exposures" else None)

        try:
            good, bad = await asyncio.to_thread(check)  # off the event loop
        except BadBatch as exc:
            raise HTTPException(status_code=exc.status, detail=str(exc)) from None
        duplicates = 0
        if kind == "events":
            fresh = []
            for row in good:
                if row["event_id"] in recent:
                    duplicates += 1
                    continue
                recent[row["event_id"]] = None
                fresh.append(row)
            good = fresh
        try:
            # durable before the answer: the spool fsyncs (off the event loop)
            await asyncio.to_thread(state["spool"].append, kind, good)
        except BaseException:
            for row in good if kind == "events" else ():
                recent.pop(row["event_id"], None)  # not acknowledged: may come again
            raise
        while len(recent) > RECENT_IDS:
            recent.popitem(last=False)
        return BatchResult(accepted=len(good), duplicates=duplicates, rejected=bad)

    batch_doc: dict[str, Any] = {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "array", "items": {}}}},
        }
    }

    @app.post("/api/events", dependencies=auth, openapi_extra=batch_doc)
    async def post_events(request: Request) -> BatchResult:
        """Accept a batch of events (a JSON array of rows)."""
        return await take("events", request)

    @app.post("/api/exposures", dependencies=auth, openapi_extra=batch_doc)
    async def post_exposures(request: Request) -> BatchResult:
        """Accept a batch of exposures (a JSON array of rows)."""
        return await take("exposures", request)

    @app.get("/api/sdk/config", dependencies=sdk_auth)
    async def sdk_config_(
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Running experiments and holdouts, for SDKs to assign locally (ETag-cached)."""
        doc = await asyncio.to_thread(sdk_config, ws)
        body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if if_none_match == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/json", headers={"ETag": etag})

    @app.get("/api/features/{client_key}")
    async def growthbook_features(
        client_key: str,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Running experiments and holdouts as GrowthBook's SDK payload (ETag-cached).

        Point any GrowthBook SDK here: ``apiHost`` is this server, ``clientKey``
        an API key of scope ``sdk``. Readable from any origin, as GrowthBook's is.
        """
        await check_key(client_key, "sdk")
        doc = await asyncio.to_thread(features_payload, ws)
        body = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}
        if if_none_match == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    async def flushed() -> Workspace:
        """The owned workspace, once every row acknowledged so far is in the warehouse."""
        await asyncio.to_thread(state["spool"].load)
        held: Workspace = state["ws"]
        return held

    @app.post("/api/jobs/analyze", dependencies=job_auth)
    async def analyze_job(job: AnalyzeJob) -> dict[str, Any]:
        """Analyse experiments on this process's warehouse (see ``tinylift analyze``)."""
        held = await flushed()
        result = await asyncio.to_thread(
            analysis.analyze, held, job.keys or None, cutoff=job.cutoff, store=job.store
        )
        return result.to_dict()

    @app.post("/api/jobs/refresh", dependencies=job_auth)
    async def refresh_job(job: RefreshJob) -> list[dict[str, Any]]:
        """Refresh experiments on this process's warehouse (see ``tinylift refresh``)."""
        held = await flushed()
        return await asyncio.to_thread(analysis.refresh, held, job.keys or None, full=job.full)

    @app.post("/api/jobs/ingest", dependencies=job_auth)
    async def ingest_job(job: IngestJob) -> dict[str, Any]:
        """Load a file into this process's warehouse (see ``tinylift ingest``)."""
        held = await flushed()
        spool: Spool = state["spool"]

        def run() -> dict[str, Any]:
            with spool.exclusive():  # one writer at a time on the connection
                return data.ingest(held, Path(job.path), job.kind, restate=job.restate).to_dict()

        return await asyncio.to_thread(run)

    @app.post("/api/jobs/market-series", dependencies=job_auth)
    async def market_series_job() -> list[dict[str, Any]]:
        """The market series loaded in this process's warehouse (``tinylift markets``)."""
        from tinylift.service.markets import series_rows

        held = await flushed()
        return await asyncio.to_thread(series_rows, held)

    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        """Liveness, and whether the loader had to set spool files aside (degraded)."""
        spool: Spool | None = state.get("spool")
        failures = [] if spool is None else spool.failures
        if failures:
            return {
                "status": "degraded",
                "failures": [{"file": f, "reason": r} for f, r in failures[-10:]],
                "set_aside": len(failures),
            }
        return {"status": "ok"}

    return app
