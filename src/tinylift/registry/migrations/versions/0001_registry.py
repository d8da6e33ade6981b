"""The registry: teams, users, experiments, phases, snapshots, decisions, anecdotes, learnings.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinylift.registry.models import AREAS, OUTCOMES, ROLES, SENTIMENTS, STATUSES, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


_IMMUTABLE_SQLITE = """
CREATE TRIGGER snapshots_immutable BEFORE UPDATE ON snapshots
BEGIN SELECT RAISE(ABORT, 'analysis snapshots are immutable'); END
"""
_IMMUTABLE_PG = (
    """
CREATE FUNCTION tinylift_snapshots_immutable() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'analysis snapshots are immutable'; END
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER snapshots_immutable BEFORE UPDATE ON snapshots
FOR EACH ROW EXECUTE FUNCTION tinylift_snapshots_immutable()
""",
)


def upgrade() -> None:
    op.create_table(
        "teams",
        _id(),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_teams"),
        sa.UniqueConstraint("key", name="uq_teams_key"),
    )
    op.create_table(
        "users",
        _id(),
        sa.Column("handle", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("handle", name="uq_users_handle"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_users_team_id"),
    )
    op.create_index("ix_users_team_id", "users", ["team_id"])
    op.create_table(
        "experiments",
        _id(),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("hypothesis", sa.Text(), nullable=False),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("layer", sa.String(100), nullable=True),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("targeting", sa.JSON(), nullable=False),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column("planned_units", sa.Integer(), nullable=True),
        sa.Column("planned_days", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _time("created_at"),
        _time("started_at", nullable=True),
        _time("stopped_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.UniqueConstraint("key", name="uq_experiments_key"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_experiments_team_id"),
        sa.CheckConstraint(_in("status", STATUSES), name="ck_experiments_status"),
        sa.CheckConstraint(_in("area", AREAS), name="ck_experiments_area"),
        sa.CheckConstraint("coverage > 0 AND coverage <= 1", name="ck_experiments_coverage"),
    )
    op.create_index("ix_experiments_team_id", "experiments", ["team_id"])
    op.create_index("ix_experiments_status", "experiments", ["status"])
    op.create_table(
        "experiment_metrics",
        _id(),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(63), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiment_metrics"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_experiment_metrics_experiment_id",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("experiment_id", "metric", name="uq_experiment_metrics_metric"),
        sa.CheckConstraint(_in("role", ROLES), name="ck_experiment_metrics_role"),
    )
    op.create_index("ix_experiment_metrics_experiment_id", "experiment_metrics", ["experiment_id"])
    op.create_table(
        "phases",
        _id(),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        _time("started_at"),
        _time("ended_at", nullable=True),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_phases"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_phases_experiment_id",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("experiment_id", "number", name="uq_phases_number"),
    )
    op.create_index("ix_phases_experiment_id", "phases", ["experiment_id"])
    op.create_table(
        "snapshots",
        _id(),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("data_cutoff"),
        sa.Column("catalog_version", sa.String(64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("recommendation", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_snapshots"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.id"], name="fk_snapshots_experiment_id"
        ),
    )
    op.create_index("ix_snapshots_experiment_id", "snapshots", ["experiment_id"])
    op.create_table(
        "decisions",
        _id(),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("variant", sa.String(100), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        _time("decided_at"),
        sa.Column("recommendation", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.id"], name="fk_decisions_experiment_id"
        ),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"], name="fk_decisions_snapshot_id"),
        sa.UniqueConstraint("experiment_id", name="uq_decisions_experiment_id"),
        sa.CheckConstraint(_in("outcome", OUTCOMES), name="ck_decisions_outcome"),
    )
    op.create_table(
        "anecdotes",
        _id(),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(100), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("sentiment", sa.String(16), nullable=False),
        sa.Column("link", sa.String(2000), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=True),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_anecdotes"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.id"], name="fk_anecdotes_experiment_id"
        ),
        sa.CheckConstraint(_in("sentiment", SENTIMENTS), name="ck_anecdotes_sentiment"),
    )
    op.create_index("ix_anecdotes_experiment_id", "anecdotes", ["experiment_id"])
    op.create_table(
        "learnings",
        _id(),
        sa.Column("experiment_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=True),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_learnings"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.id"], name="fk_learnings_experiment_id"
        ),
    )
    op.create_index("ix_learnings_experiment_id", "learnings", ["experiment_id"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in _IMMUTABLE_PG:
            op.execute(statement)
    elif op.get_bind().dialect.name == "sqlite":
        op.execute(_IMMUTABLE_SQLITE)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        op.execute(
            "DROP TRIGGER IF EXISTS snapshots_immutable"
            + (" ON snapshots" if dialect == "postgresql" else "")
        )
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS tinylift_snapshots_immutable()")
    for table in (
        "learnings",
        "anecdotes",
        "decisions",
        "snapshots",
        "phases",
        "experiment_metrics",
        "experiments",
        "users",
        "teams",
    ):
        op.drop_table(table)
