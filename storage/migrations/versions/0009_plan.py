"""the service plan (tasks, their record, survey answers), the month's review posts, and
each ticket's deadlines stored for the review

Revision ID: 0009_plan
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_plan"
down_revision = "0008_kb"
branch_labels = None
depends_on = None

_DEADLINES = ("respond_due", "diagnose_due", "plan_due", "resolve_due")
# The month's review reads this index alone (storage.tables.REVIEW_COLUMNS, as of 0009).
_REVIEW_COLUMNS = (
    "reported_at",
    "version",
    "deadlines_version",
    "severity",
    "customer",
    "state",
    "rating",
    "first_acknowledged_at",
    "cause_at",
    "plan_at",
    "resolved_at",
    *_DEADLINES,
)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for name in _DEADLINES:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("first_acknowledged_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("deadlines_version", sa.Integer(), nullable=True))
        batch.create_index("ix_tickets_reported", list(_REVIEW_COLUMNS))
    op.create_table(
        "plan_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer", sa.String(length=200), nullable=False),
        sa.Column("task", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("nominal", sa.Date(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("armed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_plan_tasks_occurrence", "plan_tasks", ["customer", "task", "seq"], unique=True
    )
    op.create_index("ix_plan_tasks_due", "plan_tasks", ["state", "due_at"])
    op.create_table(
        "plan_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["plan_tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_plan_events_task_id", "plan_events", ["task_id"])
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["plan_tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_survey_answers_once", "survey_answers", ["task_id", "user_id"], unique=True)
    op.create_index("ix_survey_answers_at", "survey_answers", ["at"])
    op.create_table(
        "review_posts",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("month"),
    )
    op.create_index("ix_review_posts_due_at", "review_posts", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_review_posts_due_at", table_name="review_posts")
    op.drop_table("review_posts")
    op.drop_index("ix_survey_answers_at", table_name="survey_answers")
    op.drop_index("ux_survey_answers_once", table_name="survey_answers")
    op.drop_table("survey_answers")
    op.drop_index("ix_plan_events_task_id", table_name="plan_events")
    op.drop_table("plan_events")
    op.drop_index("ix_plan_tasks_due", table_name="plan_tasks")
    op.drop_index("ux_plan_tasks_occurrence", table_name="plan_tasks")
    op.drop_table("plan_tasks")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_reported")
        batch.drop_column("deadlines_version")
        batch.drop_column("first_acknowledged_at")
        for name in reversed(_DEADLINES):
            batch.drop_column(name)
