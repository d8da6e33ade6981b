"""The REST API (``/api/v1``): what the pages show and do, as JSON.

Reads need a session (sign in with ``POST /api/v1/session``); writes also
need the session's ``X-CSRF-Token`` header, and the role the page would need.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from tinylift.errors import NotFound, Unauthorized
from tinylift.service import analysis, experiments, records, users
from tinylift.service.reports import report_context
from tinylift.service.users import SignedIn
from tinylift.web.auth import COOKIE, api_editor, api_team_writer, api_user, api_writer
from tinylift.web.auth import workspace_of as _ws

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["web"])
Reader = Annotated[SignedIn, Depends(api_user)]
Writer = Annotated[SignedIn, Depends(api_writer)]
EditorWriter = Annotated[SignedIn, Depends(api_editor)]
TeamWriter = Annotated[SignedIn, Depends(api_team_writer)]


class Credentials(BaseModel):
    """A sign-in."""

    handle: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    """Who is signed in, and the token their writes carry (X-CSRF-Token)."""

    handle: str
    name: str
    role: str
    team: str | None
    csrf: str


class AnecdoteIn(BaseModel):
    """An anecdote to record beside an experiment's numbers."""

    text: str = Field(min_length=1, max_length=10_000)
    source: str = Field(min_length=1, max_length=100)
    sentiment: Literal["positive", "neutral", "negative"]
    variant: str | None = Field(default=None, max_length=100)


class DecisionIn(BaseModel):
    """A decision with its rationale."""

    outcome: Literal["ship", "iterate", "abandon"]
    rationale: str = Field(min_length=1, max_length=10_000)
    variant: str | None = Field(default=None, max_length=100)


def _me(user: SignedIn) -> Me:
    return Me(handle=user.handle, name=user.name, role=user.role, team=user.team, csrf=user.csrf)


@router.post("/session")
def sign_in(request: Request, body: Credentials, response: Response) -> Me:
    """Sign in; sets the session cookie and returns the CSRF token for writes."""
    address = request.client.host if request.client else "?"
    throttle = request.app.state.throttle
    throttle.check(address, body.handle)
    try:
        token, user = users.sign_in(_ws(request), body.handle, body.password)
    except Unauthorized:
        throttle.failed(address, body.handle)
        raise
    throttle.succeeded(address, body.handle)
    response.set_cookie(
        COOKIE,
        token,
        max_age=users.SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=request.app.state.secure_cookies,
    )
    return _me(user)


@router.delete("/session", status_code=204)
def sign_out(request: Request, user: Writer, response: Response) -> None:
    """Sign out (ends this session)."""
    users.sign_out(_ws(request), request.cookies.get(COOKIE, ""))
    response.delete_cookie(COOKIE)


@router.get("/me")
def me(user: Reader) -> Me:
    """Who is signed in."""
    return _me(user)


@router.get("/experiments")
def list_experiments(
    request: Request,
    user: Reader,
    team: str | None = None,
    area: str | None = None,
    status: str | None = None,
    layer: str | None = None,
    q: Annotated[str | None, Field(max_length=200)] = None,
) -> list[dict[str, Any]]:
    """The experiment list (the same rows and filters as the page)."""
    return experiments.overview(_ws(request), team=team, area=area, status=status, layer=layer, q=q)


@router.get("/experiments/{key}")
def get_experiment(request: Request, key: str, user: Reader) -> dict[str, Any]:
    """An experiment: design, latest results (the scorecard), decision and anecdotes."""
    ws = _ws(request)
    detail = experiments.show_experiment(ws, key)
    try:
        ctx = report_context(ws, key)
        results: dict[str, Any] | None = ctx.scorecard.to_dict()
        decision = ctx.decision
    except NotFound:
        results, decision = None, None
    return {
        "experiment": detail.experiment.model_dump(mode="json"),
        "results": results,
        "decision": decision,
        "anecdotes": [a.model_dump(mode="json") for a in records.anecdotes(ws, key)],
    }


@router.post("/experiments/{key}/anecdotes", status_code=201)
def add_anecdote(request: Request, key: str, body: AnecdoteIn, user: TeamWriter) -> dict[str, str]:
    """Record an anecdote (editors of the experiment's team, admins)."""
    ws = _ws(request)
    records.add_anecdote(ws, key, {**body.model_dump(), "recorded_by": user.handle})
    return {"status": "recorded"}


@router.post("/experiments/{key}/decision", status_code=201)
def decide(request: Request, key: str, body: DecisionIn, user: TeamWriter) -> dict[str, Any]:
    """Record the decision (editors of the experiment's team, admins)."""
    ws = _ws(request)
    d = analysis.decide(
        ws, key, body.outcome, rationale=body.rationale, variant=body.variant, by=user.handle
    )
    return {
        "experiment": d.experiment,
        "outcome": d.outcome,
        "variant": d.variant,
        "recommendation": d.recommendation,
        "overrides_rule": d.overrides_rule,
    }


@router.get("/metrics")
def metrics(request: Request, user: Reader) -> list[dict[str, Any]]:
    """The metric catalog."""
    catalog = _ws(request).catalog()
    return [
        {
            "name": m.name,
            "type": m.type,
            "role": m.role,
            "direction": m.direction,
            "description": m.description,
            "team": m.team,
        }
        for m in catalog
    ]


@router.get("/users")
def list_users(request: Request, user: Reader) -> list[dict[str, Any]]:
    """Everyone with their role (admins only)."""
    user.require_admin()
    return users.list_users(_ws(request))


@router.get("/data-health")
def data_health(request: Request, user: Reader) -> dict[str, Any]:
    """Rows per table, quarantine by reason, the latest loads and analysis, loader failures."""
    from tinylift.service.data import data_health as health

    held = getattr(request.app.state, "held", None) or _ws(request)
    spool = getattr(request.app.state, "spool", None)
    return {
        **health(held),
        "set_aside": [{"file": f, "reason": r} for f, r in (spool.failures if spool else [])],
    }


@router.get("/portfolio")
def portfolio_(request: Request, user: Reader) -> dict[str, Any]:
    """What all the experiments add up to: the page's numbers, as ``tinylift portfolio --json``."""
    import json

    from tinylift.service.portfolio import portfolio

    doc: dict[str, Any] = json.loads(json.dumps(portfolio(_ws(request)).to_dict(), default=str))
    return doc


@router.get("/learnings")
def learnings(request: Request, user: Reader, q: str = "") -> list[dict[str, Any]]:
    """Learnings holding every word of ``q``."""
    return records.search_learnings(_ws(request), q.strip())


@router.get("/refresh")
def refresh_status(request: Request, user: Reader) -> dict[str, Any]:
    """The analysis job: idle or running (with its stage), and what the last run did."""
    return dict(request.app.state.refresher.status)


@router.post("/refresh", status_code=202)
async def refresh_now(request: Request, user: Writer) -> dict[str, Any]:
    """Analyse every running experiment now (editors and admins); 409 while one runs."""
    from tinylift.errors import Conflict, Forbidden

    if user.role not in ("editor", "admin"):
        raise Forbidden(f"a {user.role} cannot start an analysis")
    if not request.app.state.refresher.start():
        raise Conflict("an analysis is already running")
    return dict(request.app.state.refresher.status)


@router.get("/experiments/{key}/alerts")
def experiment_alerts(request: Request, key: str, user: Reader) -> list[dict[str, Any]]:
    """The experiment's alerts (SRM, failed guardrail, ready to decide)."""
    from tinylift.service.alerts import alerts_of

    return alerts_of(_ws(request), key)


class ExperimentIn(BaseModel):
    """A new experiment's design (the fields of ``tinylift experiments create --file``)."""

    key: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    team: str = Field(min_length=1, max_length=64)
    hypothesis: str = Field(default="", max_length=10_000)
    area: str = "other"
    variants: list[dict[str, Any]] = Field(
        default_factory=lambda: [
            {"key": "control", "weight": 0.5},
            {"key": "treatment", "weight": 0.5},
        ],
        min_length=2,
        max_length=10,
    )
    layer: str | None = Field(default=None, max_length=100)
    layer_range: tuple[float, float] | None = None
    targeting: dict[str, list[str]] = Field(default_factory=dict)
    oec: str | None = None
    secondary: list[str] = Field(default_factory=list)
    guardrails: list[str] = Field(default_factory=list)
    planned_units: int | None = Field(default=None, gt=0)
    planned_days: int | None = Field(default=None, gt=0, le=3650)
    planned_mde: float | None = Field(default=None, gt=0, lt=1)


class EditIn(BaseModel):
    """Corrections to an experiment, and why (kept in its history)."""

    reason: str = Field(min_length=1, max_length=2000)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    hypothesis: str | None = Field(default=None, max_length=10_000)
    planned_units: int | None = Field(default=None, gt=0)
    planned_days: int | None = Field(default=None, gt=0, le=3650)
    planned_mde: float | None = Field(default=None, gt=0, lt=1)


@router.post("/experiments", status_code=201)
def create_experiment(request: Request, body: ExperimentIn, user: Writer) -> dict[str, Any]:
    """Register a draft (editors for their team, admins); defaults as on the page."""
    user.require_edit(body.team)
    spec = {**body.model_dump(exclude_none=True), "owner": user.handle}
    return experiments.create_experiment(_ws(request), spec).model_dump(mode="json")


@router.patch("/experiments/{key}")
def edit_experiment(request: Request, key: str, body: EditIn, user: TeamWriter) -> dict[str, Any]:
    """Correct name, hypothesis or plan; each change is kept with who and why."""
    changes = body.model_dump(exclude_none=True, exclude={"reason"})
    edited = experiments.edit_experiment(
        _ws(request), key, changes, by=user.handle, reason=body.reason
    )
    return edited.model_dump(mode="json")


class SlipIn(BaseModel):
    """A slip to record on a launch plan's task."""

    task: str = Field(min_length=1, max_length=100)
    days: float = Field(gt=0, le=3650)
    why: str = Field(default="", max_length=2000)


class MarketDecisionIn(BaseModel):
    """The decision on a market test, with its rationale."""

    outcome: Literal["ship", "iterate", "abandon"]
    why: str = Field(min_length=1, max_length=2000)


@router.get("/markets")
def markets_(request: Request, user: Reader) -> list[dict[str, Any]]:
    """The market tests in the workspace's markets.yml."""
    from tinylift.service.markets import list_tests

    return list_tests(_ws(request))


@router.get("/markets/{key}")
def market_test(
    request: Request,
    key: str,
    user: Reader,
    draws: Annotated[int, Query(ge=19, le=9_999)] = 999,
) -> dict[str, Any]:
    """A market test's scorecard on the current series (nothing is recorded)."""
    from tinylift.service.markets import analyze, report_dict

    held = getattr(request.app.state, "held", None) or _ws(request)
    return report_dict(analyze(held, key, draws=draws, record=False))


@router.post("/markets/{key}/decision", status_code=201)
def decide_market_test(
    request: Request, key: str, body: MarketDecisionIn, user: EditorWriter
) -> dict[str, Any]:
    """Record the decision on a market test; its scorecard is kept with it."""
    from tinylift.service.markets import analyze, decide

    ws = getattr(request.app.state, "held", None) or _ws(request)
    analyze(ws, key)
    return decide(ws, key, body.outcome, body.why, by=user.handle)


@router.get("/launches")
def launches_(request: Request, user: Reader) -> list[dict[str, Any]]:
    """Stored launch plans and their latest forecast."""
    from tinylift.service.launches import list_plans

    return list_plans(_ws(request))


@router.post("/launches", status_code=201)
def save_launch(
    request: Request, body: Annotated[dict[str, Any], Body()], user: EditorWriter
) -> dict[str, Any]:
    """Store a launch plan (the fields of launch.yml as JSON); returns its forecast."""
    from tinylift.service.launches import forecast_plan, save_plan

    plan = save_plan(_ws(request), body, origin="the request's plan")
    return forecast_plan(_ws(request), plan.key, keep=False).to_dict()


@router.get("/launches/{key}/forecast")
def launch_forecast(
    request: Request,
    key: str,
    user: Reader,
    runs: Annotated[int | None, Query(ge=100, le=200_000)] = None,
    as_of: Annotated[date | None, Query()] = None,
) -> dict[str, Any]:
    """A stored plan's forecast (not kept in its history)."""
    from tinylift.service.launches import forecast_plan

    return forecast_plan(_ws(request), key, runs=runs, as_of=as_of, keep=False).to_dict()


@router.post("/launches/{key}/slips", status_code=201)
def launch_slip(request: Request, key: str, body: SlipIn, user: EditorWriter) -> dict[str, Any]:
    """Record that a task slipped; returns the new forecast (kept in the history)."""
    from tinylift.service.launches import record_slip

    return record_slip(
        _ws(request), key, body.task, body.days, reason=body.why, by=user.handle
    ).to_dict()
