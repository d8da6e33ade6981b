"""Holdouts are records of their own kind, not an area convention.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "experiments",
        sa.Column("kind", sa.String(16), nullable=False, server_default="experiment"),
    )
    # SQLite cannot add a constraint without rebuilding a table that others
    # reference; there the registry's functions alone keep kind valid.
    if op.get_bind().dialect.name != "sqlite":
        op.create_check_constraint(
            "ck_experiments_kind", "experiments", "kind IN ('experiment', 'holdout')"
        )
    # before this revision a running experiment in the 'holdout' area was a holdout
    op.execute("UPDATE experiments SET kind = 'holdout' WHERE area = 'holdout'")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("ck_experiments_kind", "experiments", type_="check")
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("kind")
