"""The market-test pages: the list, and one test's scorecard with its figures."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tinylift.service import markets
from tinylift.web.auth import workspace_of as _ws
from tinylift.web.pages import User, _held, _render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/markets")
async def markets_page(request: Request, user: User) -> HTMLResponse:
    tests = await asyncio.to_thread(markets.list_tests, _ws(request))
    return _render(request, "markets.html.j2", user=user, tests=tests)


@router.get("/markets/{key}")
async def market_page(request: Request, key: str, user: User) -> HTMLResponse:
    from tinylift.reports.markets import figures

    ws = _held(request)  # the series may live in the warehouse this process owns
    test = markets.get_test(ws, key)
    report = await asyncio.to_thread(markets.analyze, ws, key)
    return _render(
        request,
        "market.html.j2",
        user=user,
        test=test,
        r=markets.report_dict(report),
        figures=figures(report, log=test.scale == "log"),
        pct=lambda x: "–" if x is None else f"{100 * x:+.1f} %",
    )
