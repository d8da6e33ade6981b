"""Experiments carry GrowthBook's assignment settings: condition, hash attribute and version.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "experiments", sa.Column("condition", sa.JSON(), nullable=False, server_default="{}")
    )
    op.add_column(
        "experiments",
        sa.Column("hash_attribute", sa.String(64), nullable=False, server_default="id"),
    )
    op.add_column(
        "experiments", sa.Column("hash_version", sa.Integer(), nullable=False, server_default="2")
    )


def downgrade() -> None:
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("hash_version")
        batch.drop_column("hash_attribute")
        batch.drop_column("condition")
