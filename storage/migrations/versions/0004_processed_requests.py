"""processed requests: Slack's retries change nothing the second time

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_requests",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("processed_requests") as batch:
        batch.create_index("ix_processed_requests_at", ["at"])


def downgrade() -> None:
    with op.batch_alter_table("processed_requests") as batch:
        batch.drop_index("ix_processed_requests_at")
    op.drop_table("processed_requests")
