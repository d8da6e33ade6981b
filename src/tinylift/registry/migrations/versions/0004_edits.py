"""Experiments can be corrected: a planned MDE, and the history of every edit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("experiments", sa.Column("planned_mde", sa.Float(), nullable=True))
    op.create_table(
        "experiment_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "experiment_id",
            sa.Integer(),
            sa.ForeignKey(
                "experiments.id",
                ondelete="CASCADE",
                name="fk_experiment_changes_experiment_id",
            ),
            nullable=False,
        ),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiment_changes"),
    )
    op.create_index("ix_experiment_changes_experiment_id", "experiment_changes", ["experiment_id"])


def downgrade() -> None:
    op.drop_index("ix_experiment_changes_experiment_id", "experiment_changes")
    op.drop_table("experiment_changes")
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("planned_mde")
