"""Correcting the record: an experiment's dates, plan and wording, with their history.

Dates are data: an experiment started or stopped at the wrong time (or
registered after the fact) is corrected here, every change kept with who made
it and why. Snapshots already stored stay as they were computed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tinylift.errors import Conflict, DataError
from tinylift.registry.experiments import get_experiment
from tinylift.registry.models import (
    Anecdote,
    Decision,
    Experiment,
    ExperimentChange,
    Learning,
    Snapshot,
    utcnow,
)

__all__ = ["EDITABLE", "changes_of", "delete_experiment", "edit_experiment"]

#: What can be corrected after creation, and what each must be.
EDITABLE: Final = (
    "name",
    "hypothesis",
    "owner",
    "planned_units",
    "planned_days",
    "planned_mde",
    "started_at",
    "stopped_at",
)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _check(exp: Experiment, field: str, value: Any) -> None:
    key = exp.key
    if field in ("started_at", "stopped_at"):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise DataError(f"experiment {key!r}, field {field!r}: give a time with a zone")
        if field == "started_at" and exp.status == "draft":
            raise Conflict(f"experiment {key!r} is a draft: start it (with --at) instead")
        if field == "stopped_at" and exp.status in ("draft", "running"):
            raise Conflict(f"experiment {key!r} has not stopped: stop it (with --at) instead")
        if value is None:
            raise DataError(f"experiment {key!r}, field {field!r}: a date is needed")
    elif field == "name" and not (isinstance(value, str) and 0 < len(value.strip()) <= 200):
        raise DataError(f"experiment {key!r}, field 'name': 1 to 200 characters")
    elif field in ("planned_units", "planned_days") and value is not None:
        if not isinstance(value, int) or value <= 0:
            raise DataError(f"experiment {key!r}, field {field!r}: a positive whole number")
    elif field == "planned_mde" and value is not None and not 0 < float(value) < 1:
        raise DataError(f"experiment {key!r}, field 'planned_mde': between 0 and 1 (0.02 is 2 %)")


def edit_experiment(
    session: Session,
    *,
    key: str,
    changes: dict[str, Any],
    by: str,
    reason: str,
) -> Experiment:
    """Correct fields of an experiment, recording each change with who and why.

    Raises:
        DataError: an unknown field, a bad value, or dates out of order.
        Conflict: a date of a lifecycle step the experiment has not taken.
    """
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise DataError(f"cannot edit {', '.join(unknown)}; editable: {', '.join(EDITABLE)}")
    if not reason.strip():
        raise DataError("say why the experiment is corrected (the reason is kept)")
    exp = get_experiment(session, key=key, lock=True)
    for field, value in changes.items():
        _check(exp, field, value)
    start = changes.get("started_at", exp.started_at)
    stop = changes.get("stopped_at", exp.stopped_at)
    if start is not None and stop is not None and stop < start:
        raise DataError(
            f"experiment {key!r}: stop {stop.isoformat()} would be before start {start.isoformat()}"
        )
    now = utcnow()
    for field, value in changes.items():
        old = getattr(exp, field)
        if old == value:
            continue
        setattr(exp, field, value)
        if field == "started_at" and exp.phases:
            exp.phases[0].started_at = value
        if field == "stopped_at" and exp.phases:
            exp.phases[-1].ended_at = value
        session.add(
            ExperimentChange(
                experiment_id=exp.id,
                changed_at=now,
                changed_by=by,
                field=field,
                old=_text(old),
                new=_text(value),
                reason=reason,
            )
        )
    session.flush()
    return exp


def changes_of(session: Session, *, key: str) -> list[ExperimentChange]:
    """Every correction of an experiment, oldest first."""
    exp = get_experiment(session, key=key)
    return list(
        session.scalars(
            select(ExperimentChange)
            .where(ExperimentChange.experiment_id == exp.id)
            .order_by(ExperimentChange.id)
        )
    )


def delete_experiment(session: Session, *, key: str) -> None:
    """Remove an experiment that has no analysis and no decision on record.

    Raises:
        Conflict: it has snapshots or a decision (they are the record: correct
            its dates instead).
    """
    exp = get_experiment(session, key=key, lock=True)
    has_snapshot = session.scalar(select(Snapshot.id).where(Snapshot.experiment_id == exp.id))
    has_decision = session.scalar(select(Decision.id).where(Decision.experiment_id == exp.id))
    if has_snapshot is not None or has_decision is not None:
        raise Conflict(
            f"experiment {key!r} has analyses or a decision on record, which are kept; "
            "correct it with tinylift experiments edit instead"
        )
    # what was recorded about it goes with it; learnings stay, no longer linked
    for model in (Anecdote, ExperimentChange):
        session.execute(delete(model).where(model.experiment_id == exp.id))
    session.execute(
        update(Learning).where(Learning.experiment_id == exp.id).values(experiment_id=None)
    )
    session.delete(exp)
    session.flush()
