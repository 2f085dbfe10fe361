"""The tables (SQLAlchemy 2.0 typed). Alembic migrations in storage/migrations follow them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.schema import Table
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one function instead of two (ours, then DATETIME's formatting): the
        text SQLAlchemy's SQLite DATETIME stores, "2026-11-23 02:00:00.000000", made from the
        UTC time directly. A report binds about 17 datetimes; the two layers were about a
        sixth of its statements' work (tests/unit/test_tables.py checks the text is the same).
        """
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is not UTC:  # most are UTC already (the clock's)
                if value.tzinfo is None:
                    raise ValueError("naive datetime given to a UTCDateTime column")
                value = value.astimezone(UTC)
            return value.isoformat(" ", "microseconds")[:26]  # without "+00:00"

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """On SQLite, one function for the stored text too (SQLite's DATETIME parses it with
        ``datetime.fromisoformat``, then ours marks it UTC): a ticket read holds a dozen."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            return _as_utc(datetime.fromisoformat(value))

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _as_utc(value)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def table_of(model: type[Base]) -> Table:
    """The Core table of a model: bulk inserts through it skip the ORM's per-row work."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


class Counter(Base):
    """Gap-free sequences (ticket numbers): incremented inside the transaction that uses them."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


REVIEW_COLUMNS = (
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
    "respond_due",
    "diagnose_due",
    "plan_due",
    "resolve_due",
)


class TicketRow(Base):
    __tablename__ = "tickets"
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    intake_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    severity: Mapped[str] = mapped_column(String(1))
    state: Mapped[str] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)
    system: Mapped[str] = mapped_column(Text, default="")
    reporter_id: Mapped[str] = mapped_column(String(32))
    origin_channel: Mapped[str | None] = mapped_column(String(32))
    post_channel: Mapped[str] = mapped_column(String(100))
    customer: Mapped[str | None] = mapped_column(String(200))
    in_warranty: Mapped[bool] = mapped_column(default=True)
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    reported_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    cause_at: Mapped[datetime | None]
    plan_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    fix_date: Mapped[date | None] = mapped_column(Date)
    pauses: Mapped[list[Any]] = mapped_column(JSON, default=list)
    cause: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    resolution: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_ts: Mapped[str | None] = mapped_column(String(40))
    message_channel: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]
    # Each milestone's deadline as last worked out (storage.review.store_deadlines), so the
    # month's review counts promises kept in SQL. None: not worked out, or no such milestone.
    respond_due: Mapped[datetime | None]
    diagnose_due: Mapped[datetime | None]
    plan_due: Mapped[datetime | None]
    resolve_due: Mapped[datetime | None]
    first_acknowledged_at: Mapped[datetime | None]  # kept through reopens, for the review
    # The earliest unmet deadline as it stands (bot.domain.tickets.next_due), which
    # `/ticket list` and the Home tab order by; storage.review.NO_DUE when there is none.
    next_due_at: Mapped[datetime | None]
    next_due_milestone: Mapped[str | None] = mapped_column(String(16))
    deadlines_version: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        # The month's review reads this index alone (storage.review: REVIEW_COLUMNS), not
        # the wide rows: ten times less work over a month of tickets. Steps change version
        # anyway, so the entry is rewritten on each step as it would be for a narrow index.
        Index("ix_tickets_reported", *REVIEW_COLUMNS),
        Index("ix_tickets_state", "state"),
        # The lists: in order of time left, all open tickets or one class's.
        Index("ix_tickets_next_due", "next_due_at", "number"),
        Index("ix_tickets_severity_next_due", "severity", "next_due_at", "number"),
        Index("ix_tickets_assignee", "assignee_id"),
        Index("ix_tickets_reporter", "reporter_id"),
        Index("ix_tickets_message", "message_channel", "message_ts"),
    )


class TicketEventRow(Base):
    """The append-only record: who, when, what, before and after."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_number: Mapped[int] = mapped_column(ForeignKey("tickets.number"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutboxRow(Base):
    """A message owed to Slack. Stored in the use case's transaction, sent after commit."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_number: Mapped[int | None] = mapped_column(ForeignKey("tickets.number"))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Where it goes: a channel id, or "user:U…" for one person's DM. Rows of one conversation
    # are sent one at a time in (priority, id) order; 0 (pages, escalation notices) goes before
    # 1 (the rest).
    conversation: Mapped[str] = mapped_column(String(120), default="", server_default="")
    priority: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    lease_owner: Mapped[str | None] = mapped_column(String(120))  # the instance that claimed it
    lease_token: Mapped[str | None] = mapped_column(String(40))  # that claim, for the write-back
    set_aside_at: Mapped[datetime | None]  # refused for good (also sent_at: out of the queue)

    __table_args__ = (
        Index("ix_outbox_pending", "sent_at", "next_attempt_at"),
        Index("ix_outbox_conversation", "conversation", "sent_at", "priority", "id"),
        Index("ix_outbox_owner", "lease_owner"),
        Index("ix_outbox_ticket", "ticket_number"),
    )


class TimerRow(Base):
    """One reminder or escalation stage of a ticket: pending until ``fired_at`` is set.

    ``key`` is the stage's stable key (``"plan:breach"``); a ticket has each key once, so a
    fired stage is never armed again. ``version`` is the ticket's version when armed.
    ``outcome`` says what firing did: ``sent`` or ``superseded`` (a later stage of the same
    milestone was due at once and sent instead).
    """

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_number: Mapped[int] = mapped_column(ForeignKey("tickets.number"))
    key: Mapped[str] = mapped_column(String(60))
    due_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)
    armed_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        Index("ux_timers_ticket_key", "ticket_number", "key", unique=True),
        Index("ix_timers_pending", "fired_at", "due_at"),
    )


class OnCallOverrideRow(Base):
    """``/oncall override``: ``user_id`` is the primary from ``start`` up to ``end``. Append-only:
    the rows are also the record of who set which override when."""

    __tablename__ = "oncall_overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(32))
    start: Mapped[datetime]
    end: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class ProcessedRequestRow(Base):
    """Requests from Slack already acted on (event id, trigger id, view id): Slack's retries
    and double clicks find their key here and change nothing the second time."""

    __tablename__ = "processed_requests"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    reply: Mapped[str] = mapped_column(Text, default="")


class PlanTaskRow(Base):
    """One occurrence of a customer's service-plan task (SPEC §6). ``seq`` counts the
    occurrences of a task from the plan's ``start_on``; a customer has each (task, seq) once,
    so an occurrence is never sent twice. ``state`` is a :class:`TaskState`."""

    __tablename__ = "plan_tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer: Mapped[str] = mapped_column(String(200))
    task: Mapped[str] = mapped_column(String(20))
    seq: Mapped[int] = mapped_column(Integer)
    start_on: Mapped[date] = mapped_column(Date)
    nominal: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime]
    overdue_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20))
    armed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ux_plan_tasks_occurrence", "customer", "task", "seq", unique=True),
        Index("ix_plan_tasks_due", "state", "due_at"),
    )


class PlanEventRow(Base):
    """The record of the service plan: sent, superseded, done, skipped, answered."""

    __tablename__ = "plan_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("plan_tasks.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SurveyAnswerRow(Base):
    """A contact's answer to a service-quality survey: 1-5 and a comment, once per survey."""

    __tablename__ = "survey_answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("plan_tasks.id"))
    user_id: Mapped[str] = mapped_column(String(32))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (Index("ux_survey_answers_once", "task_id", "user_id", unique=True),)


class ReviewPostRow(Base):
    """The month's review posted by itself on the first working day of the next month:
    ``month`` is the reviewed month (YYYY-MM). Claimed with ``lease_until`` (one process
    posts it), ``posted_at`` once Slack has it; ``superseded`` when a later one was due too."""

    __tablename__ = "review_posts"
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    lease_until: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class KbEntryRow(Base):
    """A knowledge-base entry: a resolved ticket (``kind`` ticket, ``number`` its number) or an
    article (``kind`` article, ``number`` its KB number). ``title_terms`` and ``body_terms``
    are the tokens of :func:`bot.domain.kb.tokens` joined by spaces: the postings of
    storage.kb_postings index them (migration 0012_kb_postings, outside these models: see
    storage.kb.SEARCH_ONLY_TABLES)."""

    __tablename__ = "kb_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    number: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(Text)
    problem: Mapped[str] = mapped_column(Text, default="")
    cause: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
    retired_by: Mapped[str | None] = mapped_column(String(32))
    title_terms: Mapped[str] = mapped_column(Text, default="")
    body_terms: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ux_kb_entries_kind_number", "kind", "number", unique=True),)


class KbAnswerRow(Base):
    """A report that ended without a ticket: the reporter said an entry solved the problem
    (JZB10-2008 §5.2.2, "answered at once"). ``request_key`` is the click (view id), so
    Slack's retry of it is counted once."""

    __tablename__ = "kb_answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_key: Mapped[str] = mapped_column(String(120), unique=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    entry_kind: Mapped[str] = mapped_column(String(10))
    entry_number: Mapped[int] = mapped_column(BigInteger)
    summary: Mapped[str] = mapped_column(Text, default="")
