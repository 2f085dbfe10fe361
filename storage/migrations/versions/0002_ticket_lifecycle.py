"""ticket lifecycle: fix date, pauses, cause, plan, resolution, rating

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("fix_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("pauses", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("cause", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("plan", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rating_comment", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=False, server_default="{}"))
        batch.create_index("ix_tickets_assignee", ["assignee_id"])
        batch.create_index("ix_tickets_reporter", ["reporter_id"])
        batch.create_index("ix_tickets_message", ["message_channel", "message_ts"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_message")
        batch.drop_index("ix_tickets_reporter")
        batch.drop_index("ix_tickets_assignee")
        for column in (
            "extra",
            "rating_comment",
            "rating",
            "resolution",
            "plan",
            "cause",
            "pauses",
            "fix_date",
        ):
            batch.drop_column(column)
