"""Layers and the SDK configuration served from the registry.

Running experiments in one layer own disjoint slices of it (GrowthBook
namespaces), so no unit is in two of them. Starting an experiment claims its
slice: the one given at creation, or the first free stretch as wide as its
coverage. The claim holds a per-layer lock (PostgreSQL advisory lock; SQLite
serialises writers), so two experiments started at once never get the same
slice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tinylift.assignment.layers import Assigner, ExperimentRule, Holdout
from tinylift.errors import Conflict
from tinylift.registry.models import Experiment

__all__ = ["claim_slice", "registry_sdk_config"]

_EPS = 1e-9


def _taken(session: Session, exp: Experiment) -> list[tuple[float, float, str]]:
    rows = session.scalars(
        select(Experiment).where(
            Experiment.layer == exp.layer,
            Experiment.status == "running",
            Experiment.id != exp.id,
            Experiment.layer_start.is_not(None),
        )
    )
    return sorted((float(e.layer_start), float(e.layer_end), e.key) for e in rows)  # type: ignore[arg-type]


def claim_slice(session: Session, exp: Experiment) -> None:
    """Give a starting experiment its slice of its layer, or say why there is none."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:layer))"),
            {"layer": f"tinylift-layer:{exp.layer}"},
        )
    taken = _taken(session, exp)
    if exp.layer_start is not None and exp.layer_end is not None:
        for lo, hi, key in taken:
            if lo < exp.layer_end - _EPS and exp.layer_start < hi - _EPS:
                raise Conflict(
                    f"cannot start {exp.key!r}: its slice [{exp.layer_start:g}, "
                    f"{exp.layer_end:g}) of layer {exp.layer!r} overlaps running "
                    f"experiment {key!r} [{lo:g}, {hi:g})"
                )
        return
    start = 0.0
    for lo, hi, _ in [*taken, (1.0, 1.0, "")]:
        if lo - start >= exp.coverage - _EPS:
            exp.layer_start, exp.layer_end = start, start + exp.coverage
            return
        start = max(start, hi)
    free = 1.0 - sum(hi - lo for lo, hi, _ in taken)
    raise Conflict(
        f"cannot start {exp.key!r}: layer {exp.layer!r} has no free slice of "
        f"{exp.coverage:.0%} ({free:.0%} free in all; running: "
        f"{', '.join(k for _, _, k in taken)}); stop one or lower the coverage"
    )


def _rule(exp: Experiment) -> ExperimentRule:
    total = sum(exp.weights)
    sliced = exp.layer is not None and exp.layer_start is not None and exp.layer_end is not None
    return ExperimentRule(
        key=exp.key,
        variants=exp.variant_keys,
        weights=tuple(w / total for w in exp.weights),
        coverage=exp.coverage,  # a share of all units, in the rule as in the registry
        layer=exp.layer if sliced else None,
        layer_range=(exp.layer_start, exp.layer_end) if sliced else (0.0, 1.0),  # type: ignore[arg-type]
        targeting={k: tuple(v) for k, v in exp.targeting.items()},
        condition=exp.condition or {},
        hash_attribute=exp.hash_attribute or "id",
        hash_version=exp.hash_version or 2,
    )


def registry_sdk_config(session: Session) -> dict[str, Any]:
    """What SDKs need to assign locally: running experiments and holdouts.

    A running record of kind ``holdout`` is a global holdout whose share is
    its first variant's share of the weights (GrowthBook-style: see
    :class:`~tinylift.assignment.Holdout`).
    """
    running = list(
        session.scalars(
            select(Experiment).where(Experiment.status == "running").order_by(Experiment.id)
        )
    )
    holdouts = [
        Holdout(
            e.key,
            e.weights[0] / sum(e.weights),
            variants=(e.variant_keys[0], e.variant_keys[1]),
        )
        for e in running
        if e.kind == "holdout"
    ]
    rules = [_rule(e) for e in running if e.kind != "holdout"]
    return Assigner(rules, holdouts).to_dict()
