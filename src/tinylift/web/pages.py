"""The pages: server-rendered Jinja2 on the service layer, forms with a token each."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from tinylift.errors import NotFound, TinyliftError, Unauthorized
from tinylift.service import analysis, experiments, records, users
from tinylift.service.alerts import alerts_of
from tinylift.service.reports import report_context
from tinylift.service.users import SignedIn
from tinylift.service.workspace import Workspace
from tinylift.web.auth import COOKIE, check_csrf, page_editor, page_team_editor, page_user
from tinylift.web.auth import workspace_of as _ws

__all__ = ["error_page", "router"]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(str(files("tinylift.web").joinpath("templates"))))
LOGIN_CSRF = "tinylift_login"
ROLE_ORDER = ("oec", "guardrail", "secondary")
ROLE_LABEL = {"oec": "OEC", "guardrail": "Guardrails", "secondary": "Secondary metrics"}

User = Annotated[SignedIn, Depends(page_user)]
TeamEditor = Annotated[SignedIn, Depends(page_team_editor)]
Editor = Annotated[SignedIn, Depends(page_editor)]


def _render(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=code)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A page saying what went wrong, with the status of the error."""
    return _render(request, "error.html.j2", status, status=status, message=message, user=None)


def _safe_next(target: str | None) -> str:
    """Only a path on this site, never another site (open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/experiments"
    return target


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/experiments", status_code=303)


@router.get("/login")
async def login_form(
    request: Request, next: str | None = None, error: str | None = None
) -> Response:
    token = secrets.token_urlsafe(24)
    response = _render(
        request, "login.html.j2", next=_safe_next(next), csrf=token, error=error, user=None
    )
    response.set_cookie(
        LOGIN_CSRF, token, httponly=True, samesite="lax", secure=request.app.state.secure_cookies
    )
    return response


@router.post("/login")
async def login(
    request: Request,
    handle: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/experiments",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        return error_page(request, 403, "the sign-in form expired; reload the page")
    address = request.client.host if request.client else "?"
    throttle = request.app.state.throttle
    try:
        throttle.check(address, handle)
        token, _ = users.sign_in(_ws(request), handle, password)
    except Unauthorized as exc:
        throttle.failed(address, handle)
        tok = secrets.token_urlsafe(24)
        response = _render(
            request,
            "login.html.j2",
            401,
            next=_safe_next(next),
            csrf=tok,
            error=str(exc),
            user=None,
        )
        response.set_cookie(LOGIN_CSRF, tok, httponly=True, samesite="lax")
        return response
    throttle.succeeded(address, handle)
    done = RedirectResponse(_safe_next(next), status_code=303)
    done.set_cookie(
        COOKIE,
        token,
        max_age=users.SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=request.app.state.secure_cookies,
    )
    done.delete_cookie(LOGIN_CSRF)
    return done


@router.post("/logout")
async def logout(request: Request, user: User, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(user, csrf)
    users.sign_out(_ws(request), request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/experiments")
async def experiment_list(
    request: Request,
    user: User,
    team: str | None = None,
    area: str | None = None,
    status: str | None = None,
    layer: str | None = None,
    q: str | None = None,
) -> HTMLResponse:
    ws = _ws(request)
    filters = {"team": team, "area": area, "status": status, "layer": layer, "q": q}
    filters = {k: (v or None) for k, v in filters.items()}
    rows = experiments.overview(ws, **filters)
    choices = experiments.facets(ws)
    return _render(
        request,
        "experiments.html.j2",
        user=user,
        rows=rows,
        filters=filters,
        choices=choices,
        job=request.app.state.refresher.status,
    )


@router.post("/refresh")
async def refresh_now(
    request: Request, user: Editor, csrf: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(user, csrf)
    request.app.state.refresher.start()
    return RedirectResponse("/experiments#job", status_code=303)


AREAS = (
    "product page",
    "messaging",
    "pricing",
    "packaging",
    "onboarding",
    "merchandising",
    "support",
    "other",
)


def _number(value: str | None, name: str) -> float | None:
    from tinylift.errors import ConfigError

    if value is None or not value.strip():
        return None
    try:
        number = float(value.replace(",", "").replace("%", "").strip())
    except ValueError:
        raise ConfigError(f"{value!r} is not a number", parameter=name) from None
    return number


@router.get("/experiments/new")
async def new_experiment(
    request: Request,
    user: User,
    kind: str = "proportion",
    baseline: str | None = None,
    sd: str | None = None,
    mde: str | None = None,
    daily: str | None = None,
) -> HTMLResponse:
    from tinylift.service.planning import power_plan

    user.require_edit(user.team)
    ws = _ws(request)
    calc = {"kind": kind, "baseline": baseline, "sd": sd, "mde": mde, "daily": daily}
    plan, problem = None, None
    try:
        b, s, m, d = (
            _number(v, n)
            for v, n in ((baseline, "baseline"), (sd, "sd"), (mde, "MDE"), (daily, "daily traffic"))
        )
        if b is not None and m is not None:
            plan = power_plan(
                kind,
                baseline=b,
                mde=m / 100,
                sd=s,
                daily_units=d,
                alpha=ws.settings.alpha,
                power=ws.settings.power,
            )
    except TinyliftError as exc:
        problem = str(exc)
    teams = [t[0] for t in experiments.list_teams(ws)]
    if user.role != "admin" and user.team:
        teams = [user.team]
    catalog = ws.catalog()
    return _render(
        request,
        "new.html.j2",
        user=user,
        calc=calc,
        plan=plan,
        problem=problem,
        teams=teams,
        areas=AREAS,
        metrics=[m.name for m in catalog],
        oec=next((m.name for m in catalog if m.role == "oec"), None),
        alpha=ws.settings.alpha,
        power=ws.settings.power,
    )


@router.post("/experiments/new")
async def create_experiment(
    request: Request,
    user: Editor,
    key: Annotated[str, Form(max_length=100)],
    name: Annotated[str, Form(max_length=200)],
    team: Annotated[str, Form(max_length=64)],
    area: Annotated[str, Form(max_length=32)] = "other",
    hypothesis: Annotated[str, Form(max_length=10_000)] = "",
    treatments: Annotated[int, Form(ge=1, le=9)] = 1,
    layer: Annotated[str, Form(max_length=100)] = "",
    layer_start: Annotated[str, Form(max_length=20)] = "",
    layer_end: Annotated[str, Form(max_length=20)] = "",
    countries: Annotated[str, Form(max_length=1000)] = "",
    oec: Annotated[str, Form(max_length=100)] = "",
    planned_units: Annotated[str, Form(max_length=20)] = "",
    planned_days: Annotated[str, Form(max_length=20)] = "",
    planned_mde: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(user, csrf)
    user.require_edit(team)
    ws = _ws(request)
    arms = ["control"] + [
        f"treatment{i}" if treatments > 1 else "treatment" for i in range(1, treatments + 1)
    ]
    start, end = _number(layer_start, "layer slice start"), _number(layer_end, "layer slice end")
    units, days, mde = (
        _number(planned_units, "planned units"),
        _number(planned_days, "planned days"),
        _number(planned_mde, "planned MDE"),
    )
    spec: dict[str, Any] = {
        "key": key.strip(),
        "name": name.strip(),
        "hypothesis": hypothesis.strip(),
        "team": team,
        "area": area,
        "owner": user.handle,
        "variants": [{"key": a, "weight": 1 / len(arms)} for a in arms],
        "layer": layer.strip() or None,
        "layer_range": (start, end) if start is not None and end is not None else None,
        "targeting": {"country": [c.strip() for c in countries.split(",") if c.strip()]}
        if countries.strip()
        else {},
        "oec": oec or None,
        "planned_units": int(units) if units else None,
        "planned_days": int(days) if days else None,
        "planned_mde": mde / 100 if mde else None,
    }
    experiments.create_experiment(ws, spec)
    return RedirectResponse(f"/experiments/{spec['key']}", status_code=303)


#: Figures by snapshot digest: snapshots never change, so neither do their figures.
_FIGURES: OrderedDict[str, tuple[str | None, list[tuple[str, str]]]] = OrderedDict()


def _figures(digest: str, card: Any) -> tuple[str | None, list[tuple[str, str]]]:
    """The forest plot and the over-time figures of a snapshot, as Plotly JSON (cached)."""
    if digest not in _FIGURES:
        _FIGURES[digest] = (_figure_json(card) if card.rows else None, _over_time_json(card))
        while len(_FIGURES) > 256:
            _FIGURES.popitem(last=False)
    return _FIGURES[digest]


def _figure_json(card: Any) -> str:
    from tinylift.reports.html import effect_figure

    fig = effect_figure(card)
    fig.update_layout(title=None, margin={"l": 10, "r": 10, "t": 10, "b": 40})
    return str(fig.to_json())


def _over_time_json(card: Any) -> list[tuple[str, str]]:
    from tinylift.reports.html import over_time_figure

    tracked = dict.fromkeys(r.metric for r in card.rows if r.role in ("oec", "guardrail"))
    return [(m, str(over_time_figure(card, m).to_json())) for m in tracked if card.over_time]


@router.get("/experiments/{key}")
async def experiment_page(request: Request, key: str, user: User) -> HTMLResponse:
    ws = _ws(request)
    detail = experiments.show_experiment(ws, key)
    exp = detail.experiment
    try:
        ctx = report_context(ws, key)
    except NotFound:
        ctx = None
    card = ctx.scorecard if ctx else None
    groups = (
        [(ROLE_LABEL[r], card.rows_of(r)) for r in ROLE_ORDER if card.rows_of(r)] if card else []
    )
    problems = [c for c in card.checks if c.status in ("fail", "warn")] if card else []
    figures = _figures(ctx.snapshot["digest"], card) if ctx and card else (None, [])
    history = [
        {"when": when, "what": f"{field}: {old or '–'} → {new or '–'}", "who": who, "why": why}
        for when, who, field, old, new, why in detail.changes
    ]
    return _render(
        request,
        "experiment.html.j2",
        user=user,
        exp=exp,
        detail=detail,
        card=card,
        ctx=ctx,
        groups=groups,
        problems=problems,
        figure=figures[0],
        over_time=figures[1],
        anecdotes=records.anecdotes(ws, key),
        alerts=alerts_of(ws, key),
        history=history,
        may_edit=user.may_edit(exp.team),
        pct=_pct,
        num=_num,
    )


def _pct(x: float | None) -> str:
    return f"{100 * x:+.2f} %" if isinstance(x, (int, float)) else "–"


def _num(x: float | None) -> str:
    return f"{x:+.4g}" if isinstance(x, (int, float)) else "–"


@router.get("/experiments/{key}/edit")
async def edit_form(request: Request, key: str, user: TeamEditor) -> HTMLResponse:
    exp = experiments.show_experiment(_ws(request), key).experiment
    return _render(request, "edit.html.j2", user=user, exp=exp, error=None)


@router.post("/experiments/{key}/edit")
async def edit_experiment(
    request: Request,
    key: str,
    user: TeamEditor,
    reason: Annotated[str, Form(max_length=2000)],
    name: Annotated[str, Form(max_length=200)] = "",
    hypothesis: Annotated[str, Form(max_length=10_000)] = "",
    planned_units: Annotated[str, Form(max_length=20)] = "",
    planned_days: Annotated[str, Form(max_length=20)] = "",
    planned_mde: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(user, csrf)
    ws = _ws(request)
    exp = experiments.show_experiment(ws, key).experiment
    units = _number(planned_units, "planned units")
    days = _number(planned_days, "planned days")
    mde = _number(planned_mde, "planned MDE")
    wanted: dict[str, Any] = {
        "name": name.strip() or exp.name,
        "hypothesis": hypothesis.strip(),
        "planned_units": int(units) if units else None,
        "planned_days": int(days) if days else None,
        "planned_mde": mde / 100 if mde else None,
    }
    changes = {k: v for k, v in wanted.items() if v != getattr(exp, k)}
    if changes:
        try:
            experiments.edit_experiment(ws, key, changes, by=user.handle, reason=reason)
        except TinyliftError as exc:
            return _render(request, "edit.html.j2", 422, user=user, exp=exp, error=str(exc))
    return RedirectResponse(f"/experiments/{key}#history", status_code=303)


@router.post("/experiments/{key}/anecdotes")
async def add_anecdote(
    request: Request,
    key: str,
    user: TeamEditor,
    text: Annotated[str, Form(max_length=10_000)],
    source: Annotated[str, Form(max_length=100)],
    sentiment: Annotated[str, Form(max_length=16)],
    variant: Annotated[str, Form(max_length=100)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(user, csrf)
    ws = _ws(request)
    records.add_anecdote(
        ws,
        key,
        {
            "text": text,
            "source": source,
            "sentiment": sentiment,
            "variant": variant or None,
            "recorded_by": user.handle,
        },
    )
    return RedirectResponse(f"/experiments/{key}#anecdotes", status_code=303)


@router.post("/experiments/{key}/decision")
async def record_decision(
    request: Request,
    key: str,
    user: TeamEditor,
    outcome: Annotated[str, Form(max_length=16)],
    rationale: Annotated[str, Form(min_length=1, max_length=10_000)],
    variant: Annotated[str, Form(max_length=100)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(user, csrf)
    ws = _ws(request)
    analysis.decide(ws, key, outcome, rationale=rationale, variant=variant or None, by=user.handle)
    return RedirectResponse(f"/experiments/{key}#history", status_code=303)


@router.get("/metrics")
async def metric_catalog(request: Request, user: User) -> HTMLResponse:
    ws = _ws(request)
    try:
        catalog = ws.catalog()
    except TinyliftError as exc:
        return error_page(request, 500, str(exc))
    used: dict[str, list[str]] = {}
    for row in experiments.list_experiments(ws):
        for m in [row.oec, *row.secondary, *row.guardrails]:
            if m:
                used.setdefault(m, []).append(row.key)
    return _render(
        request, "metrics.html.j2", user=user, catalog=catalog, used=used, define=_definition
    )


def _definition(m: Any) -> str:
    """A metric's definition in one line, as metrics.yml says it."""

    def source(x: Any) -> str:
        if isinstance(x, str):
            return x
        flt = f" where {x.filter}" if getattr(x, "filter", None) else ""
        return f"{getattr(x, 'value', 'count')} of {x.event}{flt}"

    if m.type == "ratio":
        text = f"sum({source(m.numerator)}) / sum({source(m.denominator)})"
    elif m.type == "proportion":
        flt = f" where {m.filter}" if m.filter else ""
        text = f"share of units with {m.event}{flt}"
    elif m.type == "quantile":
        text = f"q{m.quantile:g} of per-unit {m.value} of {m.event}"
    else:
        flt = f" where {m.filter}" if m.filter else ""
        text = f"per-unit {m.value} of {m.event}{flt}"
    window = f"days {m.window.start_days}-{m.window.end_days} after entry"
    extras = [window]
    if getattr(m, "cuped", None):
        extras.append(f"CUPED {m.cuped.pre_days} days")
    if getattr(m, "cap", None):
        cap = m.cap
        extras.append(
            f"capped at {cap.absolute:g}" if cap.absolute else f"capped at p{cap.percentile:g}"
        )
    if m.margin:
        extras.append(f"margin {100 * m.margin:g} %")
    return f"{text}; " + ", ".join(extras)


def _held(request: Request) -> Workspace:
    """The workspace as the owner of its warehouse (this process) sees it."""
    held = getattr(request.app.state, "held", None)
    return held if held is not None else _ws(request)


@router.get("/data")
async def data_health_page(request: Request, user: User) -> HTMLResponse:
    from tinylift.service.data import data_health

    health = data_health(_held(request))
    spool = getattr(request.app.state, "spool", None)
    failures = [] if spool is None else spool.failures
    return _render(
        request,
        "data.html.j2",
        user=user,
        health=health,
        failures=failures,
        job=request.app.state.refresher.status,
    )


@router.get("/teams")
async def teams_page(request: Request, user: User) -> HTMLResponse:
    ws = _ws(request)
    rows = experiments.overview(ws)
    teams = [
        {
            "key": key,
            "name": name,
            "description": description,
            "experiments": sum(r["team"] == key for r in rows),
            "running": sum(r["team"] == key and r["status"] == "running" for r in rows),
        }
        for key, name, description in experiments.list_teams(ws)
    ]
    return _render(request, "teams.html.j2", user=user, teams=teams)


@router.get("/portfolio")
async def portfolio_page(request: Request, user: User) -> HTMLResponse:
    import asyncio

    from tinylift.reports.portfolio import figures
    from tinylift.service.portfolio import portfolio

    result = (await asyncio.to_thread(portfolio, _ws(request))).to_dict()
    return _render(
        request,
        "portfolio.html.j2",
        user=user,
        p=result,
        figures=figures(result),
        pct=lambda x: f"{100 * x:.0f} %" if isinstance(x, (int, float)) else "–",
        num=_num,
    )


@router.get("/learnings")
async def learnings_page(request: Request, user: User, q: str = "") -> HTMLResponse:
    found = records.search_learnings(_ws(request), q.strip())
    return _render(request, "learnings.html.j2", user=user, q=q, learnings=found)
