"""tickets: the next deadline, stored, so the lists are ordered and counted in SQL

Revision ID: 0011_next_due
Revises: 0010_delivery

``next_due_at`` is a ticket's earliest unmet deadline as it stands and
``next_due_milestone`` which milestone it is (``bot.domain.tickets.next_due``); a ticket with
none has the far instant ``storage.review.NO_DUE`` and no milestone, so the column is never
NULL and ``/ticket list`` and the Home tab walk an index in order of time left.

Backfill: every existing row starts with no deadline to meet. Deadlines are worked out on
the holiday calendar of the config, which a migration does not read: at each start, before
the bot answers anything, every ticket that is not closed is re-armed from the calendar as
it is configured now (``bot.services.calendar_start.follow_calendar``), and that stores its
next deadline with its other deadlines. Closed tickets have none, which is what they get here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0011_next_due"
down_revision = "0010_delivery"
branch_labels = None
depends_on = None

NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)  # storage.review.NO_DUE as of this revision


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_due_milestone", sa.String(length=16), nullable=True))
    tickets = sa.table("tickets", sa.column("next_due_at", UTCDateTime()))
    op.get_bind().execute(sa.update(tickets).values(next_due_at=NO_DUE))
    with op.batch_alter_table("tickets") as batch:
        batch.create_index("ix_tickets_next_due", ["next_due_at", "number"])
        batch.create_index("ix_tickets_severity_next_due", ["severity", "next_due_at", "number"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_severity_next_due")
        batch.drop_index("ix_tickets_next_due")
        batch.drop_column("next_due_milestone")
        batch.drop_column("next_due_at")
