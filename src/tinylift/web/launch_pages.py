"""The launch-plan pages: the list (and a plan added as YAML), one plan's forecast, slips."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tinylift.errors import ConfigError
from tinylift.service import launches
from tinylift.web.auth import check_csrf
from tinylift.web.auth import workspace_of as _ws
from tinylift.web.pages import Editor, User, _number, _render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/launches")
async def launches_page(request: Request, user: User) -> HTMLResponse:
    return _render(request, "launches.html.j2", user=user, plans=launches.list_plans(_ws(request)))


@router.post("/launches")
async def save_launch(
    request: Request,
    user: Editor,
    plan: Annotated[str, Form(min_length=1, max_length=1_000_000)],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(user, csrf)
    try:
        saved = launches.save_plan(_ws(request), plan, origin="the plan")
    except ConfigError as exc:  # shown beside the text, which is kept
        return _render(
            request, "launches.html.j2", 400, user=user, plans=launches.list_plans(_ws(request)),
            error=str(exc), text=plan,
        )  # fmt: skip
    return RedirectResponse(f"/launches/{saved.key}", status_code=303)


@router.get("/launches/{key}")
async def launch_page(
    request: Request, key: str, user: User, task: str = "", slip: str = "", as_of: str = ""
) -> HTMLResponse:
    from tinylift.reports.launches import figures

    ws = _ws(request)
    past = await asyncio.to_thread(launches.history, ws, key)
    try:  # as of the plan's status date unless asked
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise ConfigError(f"{as_of!r} is not a date (YYYY-MM-DD)", parameter="as_of") from None
    result = await asyncio.to_thread(
        lambda: launches.forecast_plan(ws, key, as_of=day, keep=False).to_dict()
    )
    cascade = None
    if task and slip:
        days = _number(slip, "slip")
        cascade = await asyncio.to_thread(
            lambda: launches.whatif_plan(ws, key, task, days or 0, as_of=day).to_dict()
        )
    return _render(
        request,
        "launch.html.j2",
        user=user,
        f=result,
        history=past,
        figures=figures(result, past["forecasts"]),
        cascade=cascade,
        task=task,
        slip=slip,
        pct=lambda x: f"{100 * x:.0f} %" if isinstance(x, (int, float)) else "–",
    )


@router.post("/launches/{key}/slips")
async def record_slip(
    request: Request,
    key: str,
    user: Editor,
    task: Annotated[str, Form(max_length=100)],
    days: Annotated[float, Form(gt=0, le=3650)],
    why: Annotated[str, Form(max_length=2_000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:

    check_csrf(user, csrf)
    await asyncio.to_thread(
        launches.record_slip, _ws(request), key, task, days, reason=why, by=user.handle
    )
    return RedirectResponse(f"/launches/{key}#history", status_code=303)
