"""outbox: conversations, priorities and leases with an owner

Revision ID: 0010_delivery
Revises: 0004

Delivery is ordered per conversation (a channel, or one person's DM), not per ticket: each
row says which conversation it goes to and its priority there (pages first). A claim
records who holds the row (the process's instance name) and a token the write-back checks;
a row Slack refused for good is set aside (``set_aside_at``) and holds nothing up.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_delivery"
down_revision = "0009_plan"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("conversation", sa.String(length=120), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("lease_owner", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("lease_token", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=True))
    # Rows still owed keep their old order: per ticket (in its channel), the others each alone.
    op.execute(
        "UPDATE outbox SET conversation = COALESCE("
        "(SELECT tickets.post_channel FROM tickets WHERE tickets.number = outbox.ticket_number),"
        " 'legacy') WHERE sent_at IS NULL"
    )
    with op.batch_alter_table("outbox") as batch:
        batch.create_index("ix_outbox_conversation", ["conversation", "sent_at", "priority", "id"])
        batch.create_index("ix_outbox_owner", ["lease_owner"])
        batch.create_index("ix_outbox_ticket", ["ticket_number"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_ticket")
        batch.drop_index("ix_outbox_owner")
        batch.drop_index("ix_outbox_conversation")
        batch.drop_column("set_aside_at")
        batch.drop_column("lease_token")
        batch.drop_column("lease_owner")
        batch.drop_column("priority")
        batch.drop_column("conversation")
