"""Launch plans in the registry: the plan as written, its slips, its forecasts over time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tinylift.errors import NotFound
from tinylift.registry.models import LaunchForecast, LaunchPlan, LaunchSlip, utcnow

__all__ = [
    "add_forecast",
    "add_slip",
    "forecasts_of",
    "get_plan",
    "list_plans",
    "save_plan",
    "slips_of",
]


def save_plan(session: Session, *, key: str, name: str, source: str) -> LaunchPlan:
    """Store a plan's YAML (a new version replaces the old; slips and forecasts stay)."""
    row = session.scalar(select(LaunchPlan).where(LaunchPlan.key == key))
    if row is None:
        row = LaunchPlan(key=key, name=name, source=source)
        session.add(row)
    elif row.source != source or row.name != name:
        row.source, row.name, row.updated_at = source, name, utcnow()
    session.flush()
    return row


def get_plan(session: Session, *, key: str) -> LaunchPlan:
    """The stored plan called ``key``."""
    row = session.scalar(select(LaunchPlan).where(LaunchPlan.key == key))
    if row is None:
        known = ", ".join(session.scalars(select(LaunchPlan.key).order_by(LaunchPlan.key)))
        raise NotFound(
            f"no launch plan {key!r} in the registry"
            + (f" (there are: {known})" if known else " (forecast a plan file first)")
        )
    return row


def list_plans(session: Session) -> list[LaunchPlan]:
    """Every stored plan, by key."""
    return list(session.scalars(select(LaunchPlan).order_by(LaunchPlan.key)))


def add_slip(
    session: Session, *, key: str, task: str, days: float, reason: str, recorded_by: str
) -> LaunchSlip:
    """Record that ``task`` slipped by ``days``."""
    plan = get_plan(session, key=key)
    row = LaunchSlip(plan_id=plan.id, task=task, days=days, reason=reason, recorded_by=recorded_by)
    session.add(row)
    session.flush()
    return row


def slips_of(session: Session, *, key: str) -> list[LaunchSlip]:
    """A plan's slips, oldest first."""
    return _of_plan(session, LaunchSlip, key)


def add_forecast(session: Session, *, key: str, **values: Any) -> LaunchForecast:
    """Keep one forecast of a plan (as_of, cpm, p50, p80, p95, p_on_time, reason)."""
    plan = get_plan(session, key=key)
    row = LaunchForecast(plan_id=plan.id, **values)
    session.add(row)
    session.flush()
    return row


def forecasts_of(session: Session, *, key: str) -> list[LaunchForecast]:
    """A plan's forecasts, oldest first."""
    return _of_plan(session, LaunchForecast, key)


def _of_plan(session: Session, model: Any, key: str) -> list[Any]:
    plan = get_plan(session, key=key)
    return list(session.scalars(select(model).where(model.plan_id == plan.id).order_by(model.id)))
