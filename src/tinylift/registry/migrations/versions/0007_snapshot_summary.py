"""Snapshots carry a summary (units, the OEC's verdict), so lists need not read results.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("snapshots", sa.Column("summary", sa.JSON(), nullable=True))


#: The trigger of 0001: SQLite's batch mode copies the table, and dropping the
#: old one drops its trigger with it, so the copy gets it again.
_IMMUTABLE_SQLITE = """
CREATE TRIGGER IF NOT EXISTS snapshots_immutable BEFORE UPDATE ON snapshots
BEGIN SELECT RAISE(ABORT, 'analysis snapshots are immutable'); END
"""


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_column("snapshots", "summary")
        return
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("summary")
    op.execute(_IMMUTABLE_SQLITE)
