"""Pydantic schemas for what goes into and comes out of the registry.

Separate from the SQLAlchemy models (as in FastAPI's full-stack template):
``*Create`` validates input from the CLI, the API or a file; ``*Public`` is
what the CLI's ``--json`` and the REST API return.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tinylift.registry.models import Area

__all__ = [
    "AnecdoteCreate",
    "AnecdotePublic",
    "DecisionPublic",
    "ExperimentCreate",
    "ExperimentPublic",
    "LearningPublic",
    "SnapshotPublic",
    "VariantIn",
]

Key = str
KEY_PATTERN = r"^[A-Za-z0-9_.:-]{1,100}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class VariantIn(_In):
    """An arm and its planned share of traffic."""

    key: str = Field(pattern=KEY_PATTERN)
    weight: float = Field(gt=0, le=1000)


class ExperimentCreate(_In):
    """A new experiment's design; it starts as a draft."""

    key: str = Field(pattern=KEY_PATTERN)
    #: ``holdout``: keeps its first variant's share of all users from everything shipped.
    kind: Literal["experiment", "holdout"] = "experiment"
    name: str = Field(min_length=1, max_length=200)
    hypothesis: str = ""
    area: Area = "other"
    team: str = Field(min_length=1, max_length=64)
    owner: str | None = Field(default=None, max_length=64)
    layer: str | None = Field(default=None, max_length=100)
    #: The slice of the layer to own; left out, one is allocated at start.
    layer_range: tuple[float, float] | None = None
    variants: list[VariantIn] = Field(min_length=2)
    #: Share of all users the experiment enrolls (in a layer: of the layer).
    coverage: float = Field(default=1.0, gt=0, le=1)
    targeting: dict[str, list[str]] = Field(default_factory=dict)
    #: A GrowthBook condition (``{"country": {"$in": ["US"]}, "app": {"$vgte": "2.0.0"}}``).
    condition: dict[str, Any] = Field(default_factory=dict)
    #: The attribute hashed to assign (``id``: the unit id; ``company_id`` for B2B tests).
    hash_attribute: str = Field(default="id", min_length=1, max_length=64)
    #: GrowthBook's hash version (2 is the better-distributed one).
    hash_version: Literal[1, 2] = 2
    oec: str | None = None
    secondary: list[str] = Field(default_factory=list)
    guardrails: list[str] = Field(default_factory=list)
    planned_units: int | None = Field(default=None, gt=0)
    planned_days: int | None = Field(default=None, gt=0, le=3650)
    #: Relative: 0.02 means effects within +-2 % are *flat* (equivalent) for metrics
    #: without a margin of their own.
    planned_mde: float | None = Field(default=None, gt=0, lt=1)

    @field_validator("variants")
    @classmethod
    def _unique_variants(cls, v: list[VariantIn]) -> list[VariantIn]:
        keys = [x.key for x in v]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"variant keys must be unique; repeated: {', '.join(dup)}")
        return v

    @model_validator(mode="after")
    def _slice(self) -> ExperimentCreate:
        if self.layer_range is None:
            return self
        lo, hi = self.layer_range
        if self.layer is None:
            raise ValueError("layer_range needs a layer")
        if not 0 <= lo < hi <= 1:
            raise ValueError(f"layer_range must satisfy 0 <= start < end <= 1, got {lo}, {hi}")
        if self.coverage > hi - lo + 1e-12:
            raise ValueError(
                f"coverage {self.coverage:g} is more than the slice's {hi - lo:g} of the layer"
            )
        return self

    @field_validator("condition")
    @classmethod
    def _condition(cls, v: dict[str, Any]) -> dict[str, Any]:
        from tinylift.assignment.conditions import validate_condition

        problems = validate_condition(v)
        if problems:
            raise ValueError("; ".join(problems))
        return v

    @model_validator(mode="after")
    def _holdout(self) -> ExperimentCreate:
        if self.kind == "holdout":
            if len(self.variants) != 2:
                raise ValueError("a holdout has two variants: the held-out share, then the rest")
            if self.layer is not None:
                raise ValueError("a holdout spans all users: give it no layer")
        return self

    @model_validator(mode="after")
    def _metrics_once(self) -> ExperimentCreate:
        names = ([self.oec] if self.oec else []) + self.secondary + self.guardrails
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"each metric may have one role; given twice: {', '.join(dup)}")
        return self

    def metric_roles(self) -> list[tuple[str, str]]:
        """(metric, role) pairs, OEC first."""
        out = [(self.oec, "oec")] if self.oec else []
        out += [(m, "secondary") for m in self.secondary]
        out += [(m, "guardrail") for m in self.guardrails]
        return out


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class ExperimentPublic(_Out):
    """An experiment as the registry holds it."""

    key: str
    kind: str
    name: str
    hypothesis: str
    area: str
    team: str
    owner: str | None
    layer: str | None
    layer_range: tuple[float, float] | None
    variants: list[dict[str, Any]]
    coverage: float
    targeting: dict[str, Any]
    condition: dict[str, Any]
    hash_attribute: str
    hash_version: int
    oec: str | None
    secondary: list[str]
    guardrails: list[str]
    planned_units: int | None
    planned_days: int | None
    planned_mde: float | None
    status: str
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None

    @classmethod
    def of(cls, exp: Any) -> ExperimentPublic:
        """From an :class:`~tinylift.registry.models.Experiment`."""
        return cls(
            key=exp.key,
            kind=exp.kind,
            name=exp.name,
            hypothesis=exp.hypothesis,
            area=exp.area,
            team=exp.team.key,
            owner=exp.owner,
            layer=exp.layer,
            layer_range=None if exp.layer_start is None else (exp.layer_start, exp.layer_end),
            variants=exp.variants,
            coverage=exp.coverage,
            targeting=exp.targeting,
            condition=exp.condition or {},
            hash_attribute=exp.hash_attribute or "id",
            hash_version=exp.hash_version or 2,
            oec=exp.oec,
            secondary=exp.metric_names("secondary"),
            guardrails=exp.metric_names("guardrail"),
            planned_units=exp.planned_units,
            planned_days=exp.planned_days,
            planned_mde=exp.planned_mde,
            status=exp.status,
            created_at=exp.created_at,
            started_at=exp.started_at,
            stopped_at=exp.stopped_at,
        )


class SnapshotPublic(_Out):
    """An immutable analysis snapshot."""

    id: int
    created_at: datetime
    data_cutoff: datetime
    catalog_version: str
    settings: dict[str, Any]
    results: dict[str, Any]
    recommendation: str
    digest: str


class DecisionPublic(_Out):
    """A recorded decision."""

    outcome: str
    variant: str | None
    rationale: str
    decided_by: str
    decided_at: datetime
    snapshot_id: int | None
    recommendation: str | None


class AnecdoteCreate(_In):
    """Qualitative evidence to record beside an experiment."""

    text: str = Field(min_length=1, max_length=10_000)
    source: str = Field(min_length=1, max_length=100)
    sentiment: Literal["positive", "neutral", "negative"]
    variant: str | None = None
    link: str | None = Field(default=None, max_length=2000)
    recorded_by: str | None = Field(default=None, max_length=64)


class AnecdotePublic(_Out):
    """A recorded anecdote."""

    id: int
    variant: str | None
    text: str
    source: str
    sentiment: str
    link: str | None
    recorded_by: str | None
    created_at: datetime


class LearningPublic(_Out):
    """A recorded learning."""

    id: int
    text: str
    tags: list[str]
    recorded_by: str | None
    created_at: datetime
    experiment: str | None = None
