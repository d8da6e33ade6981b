"""Alerts: SRM, a failed guardrail, ready to decide — once per experiment and cause.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinylift.registry.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer(),
            sa.ForeignKey("experiments.id", ondelete="CASCADE", name="fk_alerts_experiment_id"),
            nullable=False,
        ),
        sa.Column("cause", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("experiment_id", "cause", name="uq_alerts_cause"),
    )
    op.create_index("ix_alerts_experiment_id", "alerts", ["experiment_id"])


def downgrade() -> None:
    op.drop_index("ix_alerts_experiment_id", "alerts")
    op.drop_table("alerts")
