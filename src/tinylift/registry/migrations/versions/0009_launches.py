"""Launch plans, their recorded slips and the history of their forecasts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from tinylift.registry.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "launch_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_launch_plans"),
        sa.UniqueConstraint("key", name="uq_launch_plans_key"),
    )
    for table in ("launch_slips", "launch_forecasts"):
        extra: list[sa.Column[Any]] = (
            [
                sa.Column("task", sa.String(100), nullable=False),
                sa.Column("days", sa.Float(), nullable=False),
                sa.Column("reason", sa.Text(), nullable=False),
                sa.Column("recorded_by", sa.String(64), nullable=False),
                sa.Column("recorded_at", UTCDateTime(), nullable=False),
            ]
            if table == "launch_slips"
            else [
                sa.Column("created_at", UTCDateTime(), nullable=False),
                sa.Column("as_of", sa.String(10), nullable=False),
                sa.Column("cpm", sa.String(10), nullable=False),
                sa.Column("p50", sa.String(10), nullable=False),
                sa.Column("p80", sa.String(10), nullable=False),
                sa.Column("p95", sa.String(10), nullable=False),
                sa.Column("p_on_time", sa.Float(), nullable=True),
                sa.Column("reason", sa.String(300), nullable=False),
            ]
        )
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column(
                "plan_id",
                sa.Integer(),
                sa.ForeignKey("launch_plans.id", ondelete="CASCADE", name=f"fk_{table}_plan_id"),
                nullable=False,
            ),
            *extra,
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_plan_id", table, ["plan_id"])


def downgrade() -> None:
    for table in ("launch_forecasts", "launch_slips"):
        op.drop_index(f"ix_{table}_plan_id", table)
        op.drop_table(table)
    op.drop_table("launch_plans")
