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
from collections import OrderedDict
from collections.abc import AsyncIterator, Container, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from tinylift.collector.spool import Spool
from tinylift.errors import ConfigError, TinyliftError, describe_validation
from tinylift.service import analysis, data, owner
from tinylift.service.experiments import sdk_config
from tinylift.service.workspace import Workspace
from tinylift.warehouse.store import Warehouse

__all__ = ["create_collector"]

_NAME = r"^[A-Za-z0-9_.:-]{1,100}$"
#: What the warehouse stores, checked before a row is acknowledged, so that
#: "accepted" means stored: a row the loader would refuse is refused here.
MAX_JSON_BYTES = 64 * 1024
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _id(value: str) -> str:
    if value != value.strip():
        raise ValueError("must not start or end with spaces (they would be trimmed)")
    return value


def _json_object(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError:
        raise ValueError("NaN and infinities have no place in JSON") from None
    if len(text.encode()) > MAX_JSON_BYTES:
        raise ValueError(f"larger than {MAX_JSON_BYTES // 1024} KB as JSON")
    return value


def _in_range(value: datetime) -> datetime:
    if not _EARLIEST <= value < _LATEST:
        raise ValueError("must be between 1970 and 2100")
    return value


Id = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_id)]
When = Annotated[AwareDatetime, AfterValidator(_in_range)]  # a time zone is required
Label = Annotated[str, Field(max_length=64)]


class EventIn(BaseModel):
    """One event, as the collector accepts it."""

    model_config = ConfigDict(extra="forbid")
    event_id: Id
    unit_id: Id
    timestamp: When
    event_name: str = Field(pattern=_NAME)
    value: float | None = Field(default=None, allow_inf_nan=False)
    properties: Annotated[dict[str, Any] | None, AfterValidator(_json_object)] = None


class ExposureIn(BaseModel):
    """One exposure, as the collector accepts it."""

    model_config = ConfigDict(extra="forbid")
    experiment_key: str = Field(pattern=_NAME)
    variant_key: str = Field(pattern=_NAME)
    unit_id: Id
    timestamp: When
    country: Label | None = None
    platform: Label | None = None
    #: Anything else known about the unit at exposure, for breakdowns.
    attributes: Annotated[
        dict[str, str | int | float | bool | None] | None, AfterValidator(_json_object)
    ] = None


class Rejected(BaseModel):
    """Why one row of a batch was refused."""

    index: int
    field: str | None
    reason: str


class BatchResult(BaseModel):
    """What happened to a batch."""

    accepted: int
    duplicates: int
    rejected: list[Rejected]


#: How many recently accepted event ids the collector remembers, so that a batch
#: sent again (a client retrying after a lost answer) is counted as duplicates.
RECENT_IDS = 1_000_000


def _validate(
    kind: Literal["events", "exposures"],
    rows: Sequence[Any],
    recent: Container[str] = frozenset(),
) -> tuple[list[dict[str, Any]], int, list[Rejected]]:
    model = EventIn if kind == "events" else ExposureIn
    good: list[dict[str, Any]] = []
    bad: list[Rejected] = []
    seen: set[str] = set()
    duplicates = 0
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            bad.append(Rejected(index=i, field=None, reason="a row must be a JSON object"))
            continue
        try:
            item = model.model_validate(row)
        except ValidationError as exc:
            field, reason = describe_validation(exc)
            bad.append(Rejected(index=i, field=field, reason=reason))
            continue
        data = item.model_dump(mode="json")
        if kind == "events":
            if data["event_id"] in seen or data["event_id"] in recent:
                duplicates += 1
                continue
            seen.add(data["event_id"])
            if data["properties"] is not None:
                data["properties"] = json.dumps(data["properties"])
        elif data["attributes"] is not None:
            data["attributes"] = json.dumps(data["attributes"])
        good.append(data)
    return good, duplicates, bad


class AnalyzeJob(BaseModel):
    """``tinylift analyze`` sent by another process."""

    keys: list[str] = Field(default_factory=list)
    cutoff: AwareDatetime | None = None
    store: bool = True


class RefreshJob(BaseModel):
    """``tinylift refresh`` sent by another process."""

    keys: list[str] = Field(default_factory=list)


class IngestJob(BaseModel):
    """``tinylift ingest`` sent by another process (a file on this machine)."""

    path: str
    kind: Literal["events", "exposures", "units"]


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
) -> FastAPI:
    """The collector app for a workspace; this process owns its warehouse.

    ``api_keys`` adds to the keys of the workspace's settings; ``url`` is
    where other processes reach it (announced in ``server.json`` while it runs).
    """
    keys = set(ws.collector_keys(list(api_keys)))
    if not keys:
        raise ConfigError(
            "the collector needs at least one API key (TINYLIFT_COLLECTOR_KEYS, or the "
            "collector_keys_file setting)",
            parameter="collector_keys",
        )
    state: dict[str, Any] = {}
    recent: OrderedDict[str, None] = OrderedDict()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warehouse = Warehouse(ws.warehouse_path, memory_limit=ws.settings.warehouse_memory_limit)
        spool = Spool(ws.spool_path, warehouse)
        spool.load()  # rows acknowledged before a crash
        state["spool"] = spool
        state["ws"] = ws.owned_by(warehouse)
        me = owner.announce(ws, url) if url else None
        state["owner"] = me

        async def loader() -> None:
            while True:
                await asyncio.sleep(load_every)
                await asyncio.to_thread(spool.load)

        task = asyncio.create_task(loader())
        try:
            yield
        finally:
            if me is not None:
                owner.withdraw(ws, me)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            spool.load()
            warehouse.close()

    app = FastAPI(title="tinylift collector", lifespan=lifespan)

    @app.exception_handler(TinyliftError)
    async def tinylift_error(request: Request, exc: TinyliftError) -> JSONResponse:
        return error_response(exc)

    def authorised(
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> None:
        key = x_api_key or (authorization or "").removeprefix("Bearer ").strip()
        if key not in keys:
            raise HTTPException(status_code=401, detail="missing or unknown API key")

    def local_owner(authorization: Annotated[str | None, Header()] = None) -> None:
        me = state.get("owner")
        token = (authorization or "").removeprefix("Bearer ").strip()
        if me is None or not token or token != me.token:
            raise HTTPException(status_code=401, detail="jobs need the token of server.json")

    auth = [Depends(authorised)]
    job_auth = [Depends(local_owner)]

    async def take(kind: Literal["events", "exposures"], rows: list[Any]) -> BatchResult:
        good, duplicates, bad = _validate(kind, rows, recent)
        # durable before the answer: the spool fsyncs (off the event loop)
        await asyncio.to_thread(state["spool"].append, kind, good)
        if kind == "events":
            for row in good:
                recent[row["event_id"]] = None
            while len(recent) > RECENT_IDS:
                recent.popitem(last=False)
        return BatchResult(accepted=len(good), duplicates=duplicates, rejected=bad)

    @app.post("/api/events", dependencies=auth)
    async def post_events(rows: Annotated[list[Any], Body()]) -> BatchResult:
        """Accept a batch of events."""
        return await take("events", rows)

    @app.post("/api/exposures", dependencies=auth)
    async def post_exposures(rows: Annotated[list[Any], Body()]) -> BatchResult:
        """Accept a batch of exposures."""
        return await take("exposures", rows)

    @app.get("/api/sdk/config", dependencies=auth)
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
        return await asyncio.to_thread(analysis.refresh, held, job.keys or None)

    @app.post("/api/jobs/ingest", dependencies=job_auth)
    async def ingest_job(job: IngestJob) -> dict[str, Any]:
        """Load a file into this process's warehouse (see ``tinylift ingest``)."""
        held = await flushed()
        spool: Spool = state["spool"]

        def run() -> dict[str, Any]:
            with spool.exclusive():  # one writer at a time on the connection
                return data.ingest(held, Path(job.path), job.kind).to_dict()

        return await asyncio.to_thread(run)

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
