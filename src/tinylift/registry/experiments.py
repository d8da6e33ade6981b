"""Teams and experiments: creation, lookup and the lifecycle.

::

    draft ──start──▶ running ──stop──▶ stopped ──decide──▶ decided
                        └───────────decide (stops it)───────▲

Every transition locks the experiment's row (``SELECT … FOR UPDATE`` on
PostgreSQL, an immediate write transaction on SQLite) and re-reads its
status, so two people acting at once get one success and one clear
:class:`~tinylift.errors.Conflict`, never a half-done change.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tinylift.errors import Conflict, DataError, NotFound, validation_error
from tinylift.metrics import Catalog
from tinylift.registry.models import Experiment, ExperimentMetric, Phase, Team, User, utcnow
from tinylift.registry.schemas import ExperimentCreate
from tinylift.registry.slices import claim_slice

__all__ = [
    "create_experiment",
    "create_team",
    "create_user",
    "get_experiment",
    "get_team",
    "list_experiments",
    "list_teams",
    "list_users",
    "start_experiment",
    "stop_experiment",
    "validate",
]

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any, *, what: str) -> M:
    """Validate input with a Pydantic schema; the error names the field and the problem."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, where=what, data=True) from None


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


# -- teams --------------------------------------------------------------------------


def create_team(
    session: Session, *, key: str, name: str | None = None, description: str = ""
) -> Team:
    """Add a team; a duplicate key is a Conflict."""
    if session.scalar(select(Team).where(Team.key == key)) is not None:
        raise Conflict(f"team {key!r} already exists")
    team = Team(key=key, name=name or key, description=description)
    session.add(team)
    session.flush()
    return team


def get_team(session: Session, *, key: str) -> Team:
    """The team with this key; NotFound lists near names."""
    team = session.scalar(select(Team).where(Team.key == key))
    if team is None:
        known = session.scalars(select(Team.key)).all()
        hint = _suggest(key, known) or (
            f" (teams: {', '.join(known)})" if known else " (no teams yet: add one first)"
        )
        raise NotFound(f"no team {key!r}{hint}")
    return team


def list_teams(session: Session) -> list[Team]:
    """Every team, by key."""
    return list(session.scalars(select(Team).order_by(Team.key)))


def create_user(session: Session, *, handle: str, name: str = "", team: str | None = None) -> User:
    """Add a person (optionally in a team); a duplicate handle is a Conflict."""
    if session.scalar(select(User).where(User.handle == handle)) is not None:
        raise Conflict(f"user {handle!r} already exists")
    user = User(handle=handle, name=name, team_id=get_team(session, key=team).id if team else None)
    session.add(user)
    session.flush()
    return user


def list_users(session: Session, *, team: str | None = None) -> list[User]:
    """People, by handle, optionally of one team."""
    query = select(User).order_by(User.handle)
    if team is not None:
        query = query.where(User.team_id == get_team(session, key=team).id)
    return list(session.scalars(query))


# -- experiments ----------------------------------------------------------------------


def create_experiment(
    session: Session, *, spec: ExperimentCreate | dict[str, Any], catalog: Catalog | None = None
) -> Experiment:
    """Register a draft experiment.

    Raises:
        DataError: the design is invalid (names the field).
        NotFound: its team, or (given the catalog) one of its metrics, is unknown.
        Conflict: an experiment with this key exists.
    """
    spec = validate(ExperimentCreate, spec, what="experiment")
    team = get_team(session, key=spec.team)
    if catalog is not None:
        for metric, _ in spec.metric_roles():
            catalog.get(metric)  # NotFound names the metric and near names
    if session.scalar(select(Experiment.id).where(Experiment.key == spec.key)) is not None:
        raise Conflict(f"experiment {spec.key!r} already exists; choose another key")
    exp = Experiment(
        key=spec.key,
        kind=spec.kind,
        name=spec.name,
        hypothesis=spec.hypothesis,
        area=spec.area,
        team=team,
        owner=spec.owner,
        layer=spec.layer,
        layer_start=spec.layer_range[0] if spec.layer_range else None,
        layer_end=spec.layer_range[1] if spec.layer_range else None,
        variants=[v.model_dump() for v in spec.variants],
        targeting=dict(spec.targeting),
        condition=dict(spec.condition),
        hash_attribute=spec.hash_attribute,
        hash_version=spec.hash_version,
        coverage=spec.coverage,
        planned_units=spec.planned_units,
        planned_days=spec.planned_days,
        planned_mde=spec.planned_mde,
        status="draft",
        metrics=[ExperimentMetric(metric=m, role=r) for m, r in spec.metric_roles()],
    )
    session.add(exp)
    session.flush()
    return exp


def get_experiment(session: Session, *, key: str, lock: bool = False) -> Experiment:
    """The experiment with this key (locked for update when ``lock``); NotFound otherwise."""
    query = select(Experiment).where(Experiment.key == key)
    if lock:
        query = query.with_for_update(of=Experiment)
    exp = session.scalar(query)
    if exp is None:
        known = session.scalars(select(Experiment.key)).all()
        raise NotFound(f"no experiment {key!r}{_suggest(key, known)}")
    if lock:
        session.refresh(exp)  # the status as of the lock, not of an earlier read
    return exp


def list_experiments(
    session: Session, *, status: str | None = None, team: str | None = None
) -> list[Experiment]:
    """Experiments, newest first, optionally of one status or team."""
    query = select(Experiment).order_by(Experiment.created_at.desc(), Experiment.id.desc())
    if status is not None:
        query = query.where(Experiment.status == status)
    if team is not None:
        query = query.where(Experiment.team_id == get_team(session, key=team).id)
    return list(session.scalars(query))


def _transition(exp: Experiment, action: str, allowed: tuple[str, ...]) -> None:
    if exp.status in allowed:
        return
    why = {
        "draft": "it is still a draft (start it first)",
        "running": "it is already running",
        "stopped": "it is already stopped",
        "decided": "it is already decided",
    }[exp.status]
    raise Conflict(f"cannot {action} experiment {exp.key!r}: {why}")


def start_experiment(session: Session, *, key: str, at: datetime | None = None) -> Experiment:
    """draft -> running; opens the first phase with the planned coverage and weights."""
    exp = get_experiment(session, key=key, lock=True)
    _transition(exp, "start", ("draft",))
    if exp.layer is not None:
        claim_slice(session, exp)
    when = at or utcnow()
    exp.status = "running"
    exp.started_at = when
    exp.phases.append(
        Phase(
            number=len(exp.phases) + 1,
            started_at=when,
            coverage=exp.coverage,
            weights=list(exp.weights),
        )
    )
    session.flush()
    return exp


def stop_experiment(session: Session, *, key: str, at: datetime | None = None) -> Experiment:
    """running -> stopped; closes the open phase."""
    exp = get_experiment(session, key=key, lock=True)
    _transition(exp, "stop", ("running",))
    _close(exp, at or utcnow())
    session.flush()
    return exp


def _close(exp: Experiment, when: datetime) -> None:
    if exp.started_at is not None and when < exp.started_at:
        raise DataError(
            f"experiment {exp.key!r}: stop time {when.isoformat()} is before its start "
            f"{exp.started_at.isoformat()}"
        )
    exp.status = "stopped"
    exp.stopped_at = when
    for phase in exp.phases:
        if phase.ended_at is None:
            phase.ended_at = when
