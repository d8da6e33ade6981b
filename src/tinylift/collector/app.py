"""The collector's HTTP API: ``POST /api/events`` and ``POST /api/exposures``.

Each request carries a batch (a JSON array of rows in the data model's
shape). Every row is validated; good rows are spooled durably before the
response, bad rows are rejected one by one with the field and the reason.
Requests need an API key (``Authorization: Bearer KEY`` or ``X-API-Key``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from tinylift.collector.spool import Spool
from tinylift.errors import ConfigError, NotFound
from tinylift.experiments import sdk_config
from tinylift.warehouse.store import Warehouse

__all__ = ["create_collector"]

_NAME = r"^[A-Za-z0-9_.:-]{1,100}$"


class EventIn(BaseModel):
    """One event, as the collector accepts it."""

    model_config = ConfigDict(extra="forbid")
    event_id: str = Field(min_length=1, max_length=200)
    unit_id: str = Field(min_length=1, max_length=200)
    timestamp: AwareDatetime  # a time zone is required (e.g. 2026-03-01T10:00:00Z)
    event_name: str = Field(pattern=_NAME)
    value: float | None = Field(default=None, allow_inf_nan=False)
    properties: dict[str, Any] | None = None


class ExposureIn(BaseModel):
    """One exposure, as the collector accepts it."""

    model_config = ConfigDict(extra="forbid")
    experiment_key: str = Field(pattern=_NAME)
    variant_key: str = Field(pattern=_NAME)
    unit_id: str = Field(min_length=1, max_length=200)
    timestamp: AwareDatetime  # a time zone is required (e.g. 2026-03-01T10:00:00Z)
    country: str | None = None
    platform: str | None = None


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


def _validate(
    kind: Literal["events", "exposures"], rows: Sequence[Any]
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
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or None
            bad.append(Rejected(index=i, field=field, reason=err["msg"]))
            continue
        data = item.model_dump(mode="json")
        if kind == "events":
            if data["event_id"] in seen:
                duplicates += 1
                continue
            seen.add(data["event_id"])
            if data["properties"] is not None:
                data["properties"] = json.dumps(data["properties"])
        good.append(data)
    return good, duplicates, bad


def create_collector(
    workspace: Path,
    *,
    api_keys: Sequence[str],
    load_every: float = 1.0,
    memory_limit: str | None = "6GB",
) -> FastAPI:
    """The collector app for a workspace; this process owns its warehouse."""
    keys = {k for k in api_keys if k}
    if not keys:
        raise ValueError("the collector needs at least one API key")
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warehouse = Warehouse(workspace / "warehouse.duckdb", memory_limit=memory_limit)
        spool = Spool(workspace / "spool", warehouse)
        spool.load()  # rows acknowledged before a crash
        state["spool"] = spool

        async def loader() -> None:
            while True:
                await asyncio.sleep(load_every)
                await asyncio.to_thread(spool.load)

        task = asyncio.create_task(loader())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            spool.load()
            warehouse.close()

    app = FastAPI(title="tinylift collector", lifespan=lifespan)

    def authorised(
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> None:
        key = x_api_key or (authorization or "").removeprefix("Bearer ").strip()
        if key not in keys:
            raise HTTPException(status_code=401, detail="missing or unknown API key")

    auth = [Depends(authorised)]

    async def take(kind: Literal["events", "exposures"], rows: list[Any]) -> BatchResult:
        good, duplicates, bad = _validate(kind, rows)
        # durable before the answer: the spool fsyncs (off the event loop)
        await asyncio.to_thread(state["spool"].append, kind, good)
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
        try:
            doc = sdk_config(workspace)
        except NotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        except ConfigError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if if_none_match == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/json", headers={"ETag": etag})

    @app.get("/api/health")
    async def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    return app
