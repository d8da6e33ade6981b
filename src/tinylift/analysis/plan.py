"""What an analysis needs to know about one experiment, wherever it is defined.

An :class:`ExperimentPlan` is built from the registry (or from a plain
definition in tests and notebooks) and resolved against the metric catalog:
each metric's role, direction and margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tinylift.errors import ConfigError
from tinylift.metrics import Catalog
from tinylift.warehouse.contract import ExperimentWindow

__all__ = ["AnecdoteNote", "ExperimentPlan", "MetricRole", "plan_from_registry"]


@dataclass(frozen=True, slots=True)
class MetricRole:
    """A metric as one experiment uses it."""

    name: str
    role: str  # oec | secondary | guardrail
    lower_is_better: bool
    margin: float | None
    value_per_unit: float | None
    kind: str  # proportion | mean | ratio | quantile


@dataclass(frozen=True, slots=True)
class AnecdoteNote:
    """An anecdote as the analysis sees it."""

    variant: str | None
    sentiment: str
    source: str
    text: str


@dataclass(frozen=True)
class ExperimentPlan:
    """One experiment's design: arms, weights, metrics by role, dates, plan."""

    key: str
    variants: tuple[str, ...]
    weights: tuple[float, ...]
    metrics: tuple[MetricRole, ...]
    start: datetime | None = None
    end: datetime | None = None  # end of enrolment, if stopped
    planned_units: int | None = None
    planned_days: int | None = None
    #: The smallest relative effect worth detecting; the flat margin of metrics
    #: that declare none of their own.
    planned_mde: float | None = None
    traffic_share: float = 1.0  # share of all users the experiment could enroll
    complete: bool = False  # stopped: no more data will come
    layer: str | None = None
    anecdotes: tuple[AnecdoteNote, ...] = field(default=())
    holdout: bool = False  # a long-term holdout, not an experiment

    def concurrent_with(self, other: ExperimentPlan) -> bool:
        """Whether the two enrolled at the same time in different layers (so share units).

        Experiments without a layer share units with every other one.
        """
        if self.holdout or other.holdout or self.key == other.key:
            return False
        if self.layer is not None and self.layer == other.layer:
            return False  # one layer: disjoint slices of units
        far_past, far_future = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
        start = max(self.start or far_past, other.start or far_past)
        end = min(self.end or far_future, other.end or far_future)
        return start < end

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        *,
        key: str,
        variants: Sequence[str],
        weights: Sequence[float] | None = None,
        oec: str | None = None,
        secondary: Sequence[str] | None = None,
        guardrails: Sequence[str] | None = None,
        **options: Any,
    ) -> ExperimentPlan:
        """Resolve metric roles against the catalog.

        With no metrics named, the catalog's own roles apply to all of its
        metrics; an experiment always needs an OEC (its own or the catalog's).
        """
        if oec is None and not secondary and not guardrails:
            roles = [(m.name, m.role) for m in catalog]
        else:
            roles = [(oec, "oec")] if oec else []
            roles += [(n, "secondary") for n in secondary or ()]
            roles += [(n, "guardrail") for n in guardrails or ()]
            if oec is None:
                shared = [m.name for m in catalog if m.role == "oec"]
                roles = [(shared[0], "oec"), *roles] if shared else roles
        if not any(r == "oec" for _, r in roles):
            raise ConfigError(
                f"experiment {key!r} has no OEC: name one for it, or mark the shared one "
                "in metrics.yml with role: oec"
            )
        metrics = []
        for name, role in roles:
            m = catalog.get(name)
            if role == "guardrail" and m.margin is None:
                raise ConfigError(
                    f"experiment {key!r} uses {name!r} as a guardrail, but metrics.yml gives "
                    f"it no non-inferiority margin (add margin: 0.02 for 2 %)"
                )
            metrics.append(
                MetricRole(
                    name=name,
                    role=role,
                    lower_is_better=m.direction == "lower",
                    margin=m.margin,
                    value_per_unit=m.value_per_unit,
                    kind=m.type,
                )
            )
        w = tuple(weights) if weights is not None else tuple(1.0 for _ in variants)
        if len(w) != len(variants):
            raise ConfigError(f"experiment {key!r}: {len(variants)} variants but {len(w)} weights")
        return cls(key=key, variants=tuple(variants), weights=w, metrics=tuple(metrics), **options)

    def window(self, cutoff: datetime) -> ExperimentWindow:
        """What the refresh computes for this plan, with data up to ``cutoff``.

        Units enter until the experiment stopped (``end``); each unit's events
        count to the end of its own metric window, however long after the
        stop, up to the data cutoff.
        """
        enrol_end = cutoff if self.end is None else min(self.end, cutoff)
        return ExperimentWindow(
            key=self.key,
            variants=self.variants,
            metrics=tuple(m.name for m in self.metrics),
            start=self.start,
            end=cutoff,
            enrol_end=enrol_end,
            weights=self.weights,
            layer=self.layer,
        )

    def flat_margin(self, name: str) -> float | None:
        """Within this relative margin a metric's effect is *flat*: its own, or the plan's MDE."""
        return self.role(name).margin or self.planned_mde

    def role(self, name: str) -> MetricRole:
        """The role entry of one metric."""
        return next(m for m in self.metrics if m.name == name)


def plan_from_registry(exp: Any, catalog: Catalog, anecdotes: Sequence[Any] = ()) -> ExperimentPlan:
    """A plan from a registry :class:`~tinylift.registry.models.Experiment`."""
    return ExperimentPlan.build(
        catalog,
        key=exp.key,
        variants=exp.variant_keys,
        weights=exp.weights,
        oec=exp.oec,
        secondary=exp.metric_names("secondary"),
        guardrails=exp.metric_names("guardrail"),
        start=exp.started_at,
        end=exp.stopped_at,
        planned_units=exp.planned_units,
        planned_days=exp.planned_days,
        planned_mde=exp.planned_mde,
        traffic_share=exp.coverage,
        complete=exp.status in ("stopped", "decided"),
        layer=exp.layer,
        holdout=exp.kind == "holdout",
        anecdotes=tuple(
            AnecdoteNote(variant=a.variant, sentiment=a.sentiment, source=a.source, text=a.text)
            for a in anecdotes
        ),
    )
