"""The registry's tables, as SQLAlchemy 2 models.

The system of record: teams and people, experiments with their design and
lifecycle (draft -> running -> stopped -> decided) and phases, immutable
analysis snapshots, decisions with their rationale, anecdotes and learnings.
The migrations in ``migrations/`` create exactly these tables (a test compares
them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Literal, get_args

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "AREAS",
    "KEY_SCOPES",
    "KINDS",
    "OUTCOMES",
    "ROLES",
    "SENTIMENTS",
    "STATUSES",
    "USER_ROLES",
    "Alert",
    "Anecdote",
    "ApiKey",
    "Area",
    "Base",
    "Decision",
    "Experiment",
    "ExperimentChange",
    "ExperimentMetric",
    "Learning",
    "Phase",
    "Snapshot",
    "Team",
    "User",
    "WebSession",
]

#: Where in the business an experiment runs (the portfolio groups by these).
Area = Literal[
    "product page",
    "messaging",
    "pricing",
    "packaging",
    "onboarding",
    "merchandising",
    "support",
    "holdout",
    "other",
]
AREAS: Final = get_args(Area)
#: The lifecycle, in order; see :mod:`tinylift.registry.experiments`.
STATUSES: Final = ("draft", "running", "stopped", "decided")
#: An experiment compares variants; a holdout keeps a share of all users away
#: from everything shipped (its first variant is the held-out share).
KINDS: Final = ("experiment", "holdout")
ROLES: Final = ("oec", "secondary", "guardrail")
#: What a person may do in the web app: read; also change experiments (of their
#: team, when they have one); also manage people and keys.
USER_ROLES: Final = ("viewer", "editor", "admin")
#: What an API key is for: sending exposures and events, or reading the SDK payload.
KEY_SCOPES: Final = ("collector", "sdk")
OUTCOMES: Final = ("ship", "iterate", "abandon")
SENTIMENTS: Final = ("positive", "neutral", "negative")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def utcnow() -> datetime:
    """The current time, zone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Times stored as UTC and read back zone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a zone-aware time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with constraint names the migrations can refer to."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Team(Base):
    """A team that owns experiments and metrics."""

    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class User(Base):
    """A person who records decisions and anecdotes."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="viewer", server_default="viewer")
    #: Argon2id hash; None for people who only appear in records (no login).
    password_hash: Mapped[str | None] = mapped_column(String(200))


class WebSession(Base):
    """A signed-in browser: only the SHA-256 of its cookie is kept."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class ApiKey(Base):
    """A key for SDKs or the collector routes: only its SHA-256 is kept."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(_in("scope", KEY_SCOPES), name="scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class Experiment(Base):
    """An experiment's design, owner and place in the lifecycle."""

    __tablename__ = "experiments"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("area", AREAS), name="area"),
        CheckConstraint("coverage > 0 AND coverage <= 1", name="coverage"),
        CheckConstraint(_in("kind", KINDS), name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="experiment", server_default="experiment")
    name: Mapped[str] = mapped_column(String(200))
    hypothesis: Mapped[str] = mapped_column(Text, default="")
    area: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    layer: Mapped[str | None] = mapped_column(String(100))
    #: The slice [start, end) of the layer this experiment owns: given at
    #: creation, or allocated when it starts (see registry.sdk).
    layer_start: Mapped[float | None] = mapped_column(Float)
    layer_end: Mapped[float | None] = mapped_column(Float)
    #: [{"key": "control", "weight": 0.5}, ...], control first.
    variants: Mapped[list[Any]] = mapped_column()
    targeting: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: A GrowthBook condition on the unit's attributes (with targeting, all must hold).
    condition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The attribute whose value is hashed (``id``: the unit id), and GrowthBook's hash version.
    hash_attribute: Mapped[str] = mapped_column(String(64), default="id")
    hash_version: Mapped[int] = mapped_column(Integer, default=2)
    coverage: Mapped[float] = mapped_column(Float, default=1.0)
    planned_units: Mapped[int | None] = mapped_column(Integer)
    planned_days: Mapped[int | None] = mapped_column(Integer)
    #: The smallest relative effect worth detecting: within it, an effect is *flat*.
    planned_mde: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    stopped_at: Mapped[datetime | None] = mapped_column()
    #: Optimistic lock: a write based on a stale read fails instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's own attribute)

    team: Mapped[Team] = relationship(lazy="joined")
    metrics: Mapped[list[ExperimentMetric]] = relationship(
        order_by="ExperimentMetric.id", cascade="all, delete-orphan", lazy="selectin"
    )
    phases: Mapped[list[Phase]] = relationship(
        order_by="Phase.number", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def variant_keys(self) -> tuple[str, ...]:
        """Variant keys, control first."""
        return tuple(v["key"] for v in self.variants)

    @property
    def weights(self) -> tuple[float, ...]:
        """Planned traffic weights, in variant order."""
        return tuple(float(v["weight"]) for v in self.variants)

    def metric_names(self, role: str | None = None) -> list[str]:
        """The experiment's metrics (of one role, or all), in the order given."""
        return [m.metric for m in self.metrics if role is None or m.role == role]

    @property
    def oec(self) -> str | None:
        """The experiment's overall evaluation criterion, if it has one."""
        names = self.metric_names("oec")
        return names[0] if names else None


class ExperimentMetric(Base):
    """A catalog metric an experiment is judged on, and its role there."""

    __tablename__ = "experiment_metrics"
    __table_args__ = (
        UniqueConstraint("experiment_id", "metric", name="uq_experiment_metrics_metric"),
        CheckConstraint(_in("role", ROLES), name="role"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    metric: Mapped[str] = mapped_column(String(63))
    role: Mapped[str] = mapped_column(String(16))


class Phase(Base):
    """A period with fixed traffic and weights; starting opens one, stopping closes it."""

    __tablename__ = "phases"
    __table_args__ = (UniqueConstraint("experiment_id", "number", name="uq_phases_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    coverage: Mapped[float] = mapped_column(Float)
    weights: Mapped[list[Any]] = mapped_column()


class ExperimentChange(Base):
    """One correction of an experiment (its dates, plan or wording): who, when, why."""

    __tablename__ = "experiment_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(32))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


class Snapshot(Base):
    """An analysis as it was computed: cutoff, catalog version, settings, results.

    Rows are never updated (a trigger refuses it on SQLite and PostgreSQL);
    ``digest`` is the SHA-256 of the canonical JSON of ``results``.
    """

    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    data_cutoff: Mapped[datetime] = mapped_column()
    catalog_version: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column()
    results: Mapped[dict[str, Any]] = mapped_column()
    recommendation: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    #: What lists show without reading ``results``: units and the OEC's verdict.
    summary: Mapped[dict[str, Any] | None] = mapped_column()


class Decision(Base):
    """What was decided for an experiment, why, by whom, on which snapshot."""

    __tablename__ = "decisions"
    __table_args__ = (CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # one decision per experiment: a second writer gets a Conflict, not a duplicate
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), unique=True)
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    variant: Mapped[str | None] = mapped_column(String(100))
    rationale: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    recommendation: Mapped[str | None] = mapped_column(String(32))


class Anecdote(Base):
    """Qualitative evidence beside the numbers: a quote, a ticket, a return reason."""

    __tablename__ = "anecdotes"
    __table_args__ = (CheckConstraint(_in("sentiment", SENTIMENTS), name="sentiment"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), index=True)
    variant: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(100))
    sentiment: Mapped[str] = mapped_column(String(16))
    link: Mapped[str | None] = mapped_column(String(2000))
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Learning(Base):
    """Something the company learned, tagged so it can be found again."""

    __tablename__ = "learnings"
    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int | None] = mapped_column(ForeignKey("experiments.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """A cause to look at an experiment (SRM, a failed guardrail, ready to decide),
    raised at most once per experiment and cause, and whether the webhook took it."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("experiment_id", "cause", name="uq_alerts_cause"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    cause: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the webhook answered 2xx; None when there is none or it failed (see error).
    delivered_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)


class MarketTest(Base):
    """A market-level test: its design as written (markets.yml), its latest scorecard,
    and the decision taken on it."""

    __tablename__ = "market_tests"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(100))
    design: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: the latest scorecard's rows and recommendation (see service.markets)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    analysed_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LaunchPlan(Base):
    """A launch plan as its authors wrote it (YAML); slips are recorded beside it."""

    __tablename__ = "launch_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LaunchSlip(Base):
    """A task of a launch plan slipped by some days: who said so, when, why."""

    __tablename__ = "launch_slips"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("launch_plans.id", ondelete="CASCADE"), index=True
    )
    task: Mapped[str] = mapped_column(String(100))
    days: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class LaunchForecast(Base):
    """One forecast of a plan, kept so the page shows how the P80 moved week by week."""

    __tablename__ = "launch_forecasts"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("launch_plans.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    as_of: Mapped[str] = mapped_column(String(10))
    cpm: Mapped[str] = mapped_column(String(10))
    p50: Mapped[str] = mapped_column(String(10))
    p80: Mapped[str] = mapped_column(String(10))
    p95: Mapped[str] = mapped_column(String(10))
    p_on_time: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300))
