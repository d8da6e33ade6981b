"""What the registry keeps about an experiment: snapshots, decisions, anecdotes, learnings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from tinylift.errors import Conflict, DataError, NotFound
from tinylift.registry.experiments import _close, _transition, get_experiment, validate
from tinylift.registry.models import (
    OUTCOMES,
    Anecdote,
    Decision,
    Experiment,
    Learning,
    Snapshot,
    utcnow,
)
from tinylift.registry.schemas import AnecdoteCreate

__all__ = [
    "add_anecdote",
    "add_learning",
    "add_snapshot",
    "anecdotes_of",
    "decide",
    "decision_of",
    "digest",
    "get_snapshot",
    "latest_snapshot",
    "search_learnings",
    "snapshots_of",
]


def digest(results: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a snapshot's results (keys sorted)."""
    text = json.dumps(results, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


# -- snapshots --------------------------------------------------------------------------


def summary_of(results: dict[str, Any]) -> dict[str, Any]:
    """The few numbers a list shows of an analysis: units in all, the OEC's verdict."""
    units = results.get("units") or {}
    oec = next((r for r in results.get("rows", []) if r.get("role") == "oec"), None)
    return {
        "units": int(sum(units.values())) if units else None,
        "oec_verdict": None if oec is None else oec.get("verdict"),
    }


def add_snapshot(
    session: Session,
    *,
    key: str,
    data_cutoff: datetime,
    catalog_version: str,
    settings: dict[str, Any],
    results: dict[str, Any],
    recommendation: str,
) -> Snapshot:
    """Store an analysis; snapshots are never changed afterwards."""
    exp = get_experiment(session, key=key)
    if exp.status == "draft":
        raise Conflict(f"cannot analyse experiment {key!r}: it is still a draft (start it first)")
    snap = Snapshot(
        experiment_id=exp.id,
        data_cutoff=data_cutoff,
        catalog_version=catalog_version,
        settings=settings,
        results=results,
        recommendation=recommendation,
        digest=digest(results),
        summary=summary_of(results),
    )
    session.add(snap)
    session.flush()
    return snap


def _of(session: Session, model: Any, key: str) -> list[Any]:
    """Rows of ``model`` that belong to an experiment, oldest first."""
    exp = get_experiment(session, key=key)
    query = select(model).where(model.experiment_id == exp.id).order_by(model.id)
    return list(session.scalars(query))


def snapshots_of(session: Session, *, key: str) -> list[Snapshot]:
    """An experiment's snapshots, oldest first."""
    return _of(session, Snapshot, key)


def latest_snapshot(session: Session, *, key: str) -> Snapshot:
    """An experiment's newest snapshot; NotFound when it was never analysed."""
    snaps = snapshots_of(session, key=key)
    if not snaps:
        raise NotFound(f"experiment {key!r} has no analysis yet (run: tinylift analyze {key})")
    return snaps[-1]


def get_snapshot(session: Session, *, id: int) -> Snapshot:
    """A snapshot by id."""
    snap = session.get(Snapshot, id)
    if snap is None:
        raise NotFound(f"no snapshot {id}")
    return snap


# -- decisions ----------------------------------------------------------------------------


def decide(
    session: Session,
    *,
    key: str,
    outcome: str,
    rationale: str,
    decided_by: str,
    variant: str | None = None,
    snapshot_id: int | None = None,
    at: datetime | None = None,
) -> Decision:
    """Record the decision (stopping a running experiment); once per experiment.

    Raises:
        DataError: unknown outcome or variant, empty rationale.
        Conflict: the experiment is a draft or already decided.
    """
    if outcome not in OUTCOMES:
        raise DataError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    if not rationale.strip():
        raise DataError("a decision needs its rationale (--why): what the evidence was")
    exp = get_experiment(session, key=key, lock=True)
    _transition(exp, "decide", ("running", "stopped"))
    if variant is not None and variant not in exp.variant_keys:
        raise DataError(
            f"experiment {key!r} has no variant {variant!r} "
            f"(variants: {', '.join(exp.variant_keys)})"
        )
    if outcome == "ship" and variant is None:
        if len(exp.variant_keys) != 2:
            raise DataError("shipping an A/B/n experiment needs the variant that ships")
        variant = exp.variant_keys[1]
    snapshot = None
    if snapshot_id is not None:
        snapshot = get_snapshot(session, id=snapshot_id)
        if snapshot.experiment_id != exp.id:
            raise DataError(f"snapshot {snapshot_id} belongs to another experiment")
    else:
        snapshot = session.scalars(
            select(Snapshot).where(Snapshot.experiment_id == exp.id).order_by(Snapshot.id.desc())
        ).first()
    when = at or utcnow()
    if exp.status == "running":
        _close(exp, when)
    exp.status = "decided"
    decision = Decision(
        experiment_id=exp.id,
        snapshot_id=snapshot.id if snapshot else None,
        outcome=outcome,
        variant=variant if outcome == "ship" else None,
        rationale=rationale.strip(),
        decided_by=decided_by,
        decided_at=when,
        recommendation=snapshot.recommendation if snapshot else None,
    )
    session.add(decision)
    session.flush()
    return decision


def decision_of(session: Session, *, key: str) -> Decision | None:
    """The experiment's decision, if one was made."""
    exp = get_experiment(session, key=key)
    return session.scalar(select(Decision).where(Decision.experiment_id == exp.id))


# -- anecdotes -----------------------------------------------------------------------------


def add_anecdote(
    session: Session, *, key: str, anecdote: AnecdoteCreate | dict[str, Any]
) -> Anecdote:
    """Record qualitative evidence for an experiment (optionally one variant)."""
    a = validate(AnecdoteCreate, anecdote, what="anecdote")
    exp = get_experiment(session, key=key)
    if a.variant is not None and a.variant not in exp.variant_keys:
        raise DataError(
            f"experiment {key!r} has no variant {a.variant!r} "
            f"(variants: {', '.join(exp.variant_keys)})"
        )
    row = Anecdote(experiment_id=exp.id, **a.model_dump())
    session.add(row)
    session.flush()
    return row


def anecdotes_of(session: Session, *, key: str) -> list[Anecdote]:
    """An experiment's anecdotes, oldest first."""
    return _of(session, Anecdote, key)


# -- learnings -------------------------------------------------------------------------------


def add_learning(
    session: Session,
    *,
    text: str,
    tags: Sequence[str] = (),
    key: str | None = None,
    recorded_by: str | None = None,
) -> Learning:
    """Record a learning, optionally tied to the experiment it came from."""
    if not text.strip():
        raise DataError("a learning needs its text")
    clean = sorted({t.strip().lower() for t in tags if t.strip()})
    exp: Experiment | None = get_experiment(session, key=key) if key else None
    row = Learning(
        experiment_id=exp.id if exp else None,
        text=text.strip(),
        tags=clean,
        recorded_by=recorded_by,
    )
    session.add(row)
    session.flush()
    return row


def search_learnings(session: Session, *, text: str) -> list[tuple[Learning, str | None]]:
    """Learnings whose text, tags or experiment key contain every word of ``text``."""
    query = (
        select(Learning, Experiment.key)
        .outerjoin(Experiment, Learning.experiment_id == Experiment.id)
        .order_by(Learning.created_at.desc(), Learning.id.desc())
    )
    for word in text.split():
        query = query.where(
            or_(
                Learning.text.icontains(word, autoescape=True),
                cast(Learning.tags, String).icontains(word, autoescape=True),
                Experiment.key.icontains(word, autoescape=True),
                Experiment.name.icontains(word, autoescape=True),
            )
        )
    return [(row[0], row[1]) for row in session.execute(query)]
