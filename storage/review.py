"""The month's review (SPEC §6) in SQL: counts grouped in the database, percentiles from a
sorted single-column fetch, and each ticket's deadlines stored so promises kept can be
counted without loading tickets. Also the CSV rows of the month's tickets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Float,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from bot.domain.service_plan import TaskState
from bot.domain.tickets import NextDue, Promise, Ticket
from storage.tables import PlanTaskRow, SurveyAnswerRow, TicketRow, table_of

TICKETS = table_of(TicketRow)
TASKS = table_of(PlanTaskRow)
ANSWERS = table_of(SurveyAnswerRow)
MILESTONES = ("respond", "diagnose", "plan", "resolve")
# When each milestone was met: the ticket's column (bot.domain.tickets.Ticket.met_at).
MET_COLUMNS = {
    "respond": TICKETS.c.first_acknowledged_at,  # a reopen does not erase it (tickets.kept)
    "diagnose": TICKETS.c.cause_at,
    "plan": TICKETS.c.plan_at,
    "resolve": TICKETS.c.resolved_at,
}
DUE_COLUMNS = {name: TICKETS.c[f"{name}_due"] for name in MILESTONES}


class SecondsBetween(FunctionElement[float]):
    """``end - start`` in seconds, in either database."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(SecondsBetween, "sqlite")
def _seconds_sqlite(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = list(element.clauses)
    return (
        f"((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 86400.0)"
    )


@compiles(SecondsBetween)
def _seconds_default(element: SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


# ---- deadlines --------------------------------------------------------------------------

# The columns that hold a ticket's deadlines as promised and its next one due, as of
# ``deadlines_version``.
DEADLINE_COLUMNS = (
    *(f"{name}_due" for name in MILESTONES),
    "first_acknowledged_at",
    "next_due_at",
    "next_due_milestone",
    "deadlines_version",
)
# ``next_due_at`` of a ticket with no deadline to meet: after every real one, so that the
# lists, ordered by it, show those tickets last (a column that is never NULL keeps the
# order an index walk on SQLite and PostgreSQL alike). ``next_due_milestone`` is NULL then.
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)
_STORE_DEADLINES = (
    update(TICKETS)
    .where(
        TICKETS.c.number == bindparam("n"),
        TICKETS.c.version == bindparam("v"),
        # a row that holds these already is not written again (the start's pass)
        or_(
            *(TICKETS.c[column].is_distinct_from(bindparam(column)) for column in DEADLINE_COLUMNS)
        ),
    )
    .values({column: bindparam(column) for column in DEADLINE_COLUMNS})
)


def deadline_values(ticket: Ticket, promise: Promise) -> dict[str, Any]:
    """The :data:`DEADLINE_COLUMNS` of the ticket: its deadlines as promised
    (:func:`bot.domain.tickets.promised_deadlines`; None: not known, an instant beyond the
    calendar's years, stored as none), its first acknowledgement and its next deadline
    (:func:`bot.domain.tickets.next_due`; none: :data:`NO_DUE`), as of its version."""
    deadlines = promise.deadlines
    values: dict[str, Any] = {
        f"{name}_due": getattr(deadlines, name) if deadlines is not None else None
        for name in MILESTONES
    }
    values["first_acknowledged_at"] = ticket.first_acknowledged_at
    values["next_due_milestone"], values["next_due_at"] = promise.next_due or (None, NO_DUE)
    values["deadlines_version"] = ticket.version
    return values


def stored_next_due(milestone: str | None, at: datetime) -> NextDue | None:
    """The next deadline of a ticket as :func:`deadline_values` stored it."""
    return (milestone, at) if milestone is not None else None


async def store_deadlines(conn: AsyncConnection, rows: Sequence[tuple[Ticket, Promise]]) -> None:
    """Store each ticket's :func:`deadline_values`; a ticket that has moved on since keeps
    what it has (a later write stores its own). A step stores them with the ticket itself
    (``storage.tickets.save_tickets``)."""
    params = [
        {"n": ticket.number, "v": ticket.version, **deadline_values(ticket, promise)}
        for ticket, promise in rows
    ]
    if params:
        await conn.execute(_STORE_DEADLINES, params)


async def stale_deadline_numbers(
    conn: AsyncConnection, start: datetime, end: datetime, *, limit: int = 2_000
) -> list[int]:
    """Tickets reported in [start, end) whose stored deadlines are not of their version."""
    stale = (TICKETS.c.deadlines_version.is_(None)) | (
        TICKETS.c.deadlines_version != TICKETS.c.version
    )
    rows = await conn.execute(
        select(TICKETS.c.number)
        .where(TICKETS.c.reported_at >= start, TICKETS.c.reported_at < end, stale)
        .order_by(TICKETS.c.number)
        .limit(limit)
    )
    return [int(n) for n in rows.scalars()]


# ---- the figures ------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupFigures:
    """Counts for one class and customer: tickets, each milestone (met in time, due), sign-off
    ratings (count, sum), closed."""

    severity: str
    customer: str | None
    tickets: int
    met: dict[str, tuple[int, int]]
    signoffs: int
    signoff_sum: int
    closed: int


def _counted(name: str, now: datetime) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    due, met = DUE_COLUMNS[name], MET_COLUMNS[name]
    # Due: the deadline passed, or the milestone was met (in time or late). Still running: neither.
    passed = due <= literal(now, TICKETS.c.reported_at.type)
    is_due = and_(due.is_not(None), met.is_not(None) | passed)
    in_time = and_(due.is_not(None), met.is_not(None), met <= due)
    return (
        func.coalesce(func.sum(case((in_time, 1), else_=0)), 0).label(f"{name}_met"),
        func.coalesce(func.sum(case((is_due, 1), else_=0)), 0).label(f"{name}_due"),
    )


async def ticket_figures(
    conn: AsyncConnection, start: datetime, end: datetime, *, now: datetime
) -> list[GroupFigures]:
    """One row per class and customer of the tickets reported in [start, end)."""
    columns: list[ColumnElement[Any]] = [
        TICKETS.c.severity,
        TICKETS.c.customer,
        func.count().label("tickets"),
        func.count(TICKETS.c.rating).label("signoffs"),
        func.coalesce(func.sum(TICKETS.c.rating), 0).label("signoff_sum"),
        func.coalesce(func.sum(case((TICKETS.c.state == "closed", 1), else_=0)), 0).label("closed"),
    ]
    for name in MILESTONES:
        columns += _counted(name, now)
    query = (
        select(*columns)
        .where(TICKETS.c.reported_at >= start, TICKETS.c.reported_at < end)
        .group_by(TICKETS.c.severity, TICKETS.c.customer)
    )
    result = []
    for row in await conn.execute(query):
        m = row._mapping
        result.append(
            GroupFigures(
                severity=str(m["severity"]),
                customer=m["customer"],
                tickets=int(m["tickets"]),
                met={n: (int(m[f"{n}_met"]), int(m[f"{n}_due"])) for n in MILESTONES},
                signoffs=int(m["signoffs"]),
                signoff_sum=int(m["signoff_sum"]),
                closed=int(m["closed"]),
            )
        )
    return result


async def durations(
    conn: AsyncConnection, start: datetime, end: datetime, milestone: str
) -> list[float]:
    """Seconds from report to the milestone met, of the tickets reported in [start, end)
    that met it, sorted (for the median and the 90th percentile)."""
    met = MET_COLUMNS[milestone]
    seconds = SecondsBetween(met, TICKETS.c.reported_at).label("seconds")
    rows = await conn.execute(
        select(seconds)
        .where(TICKETS.c.reported_at >= start, TICKETS.c.reported_at < end, met.is_not(None))
        .order_by(seconds)  # by its label: worked out once a row
    )
    return [float(s) for s in rows.scalars()]


@dataclass(frozen=True)
class SurveyFigures:
    customer: str
    answers: int
    rating_sum: int


async def survey_figures(
    conn: AsyncConnection, start: datetime, end: datetime
) -> list[SurveyFigures]:
    """Survey answers given in [start, end), per customer."""
    query = (
        select(TASKS.c.customer, func.count(), func.coalesce(func.sum(ANSWERS.c.rating), 0))
        .select_from(ANSWERS.join(TASKS, TASKS.c.id == ANSWERS.c.task_id))
        .where(ANSWERS.c.at >= start, ANSWERS.c.at < end)
        .group_by(TASKS.c.customer)
    )
    return [SurveyFigures(str(c), int(n), int(s)) for c, n, s in await conn.execute(query)]


@dataclass(frozen=True)
class PlanFigures:
    customer: str
    due: int  # sent (or superseded) in the month
    done: int  # done or answered
    skipped: int
    overdue: int  # open past its cadence at ``now``


async def plan_figures(
    conn: AsyncConnection, start: datetime, end: datetime, *, now: datetime
) -> list[PlanFigures]:
    """The plan tasks that fell due in [start, end), per customer."""
    state = TASKS.c.state
    late = TASKS.c.overdue_at <= literal(now, TASKS.c.due_at.type)
    overdue = and_(state == TaskState.OPEN.value, late)
    query = (
        select(
            TASKS.c.customer,
            func.count(),
            func.sum(case((state == TaskState.DONE.value, 1), else_=0)),
            func.sum(case((state == TaskState.SKIPPED.value, 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
        )
        .where(
            TASKS.c.due_at >= start,
            TASKS.c.due_at < end,
            state != TaskState.PENDING.value,
        )
        .group_by(TASKS.c.customer)
    )
    return [
        PlanFigures(str(c), int(n), int(d or 0), int(s or 0), int(o or 0))
        for c, n, d, s, o in await conn.execute(query)
    ]


# ---- the CSV ----------------------------------------------------------------------------

CSV_COLUMNS = (
    TICKETS.c.number,
    TICKETS.c.severity,
    TICKETS.c.state,
    TICKETS.c.customer,
    TICKETS.c.summary,
    TICKETS.c.reporter_id,
    TICKETS.c.assignee_id,
    TICKETS.c.reported_at,
    TICKETS.c.first_acknowledged_at,  # beside respond as first promised, as the review counts
    TICKETS.c.respond_due,
    TICKETS.c.cause_at,
    TICKETS.c.diagnose_due,
    TICKETS.c.plan_at,
    TICKETS.c.plan_due,
    TICKETS.c.resolved_at,
    TICKETS.c.resolve_due,
    TICKETS.c.closed_at,
    TICKETS.c.rating,
)


async def ticket_rows(
    conn: AsyncConnection, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    """The month's tickets for the CSV, in number order, the columns of :data:`CSV_COLUMNS`."""
    query = (
        select(*CSV_COLUMNS)
        .where(TICKETS.c.reported_at >= start, TICKETS.c.reported_at < end)
        .order_by(TICKETS.c.number)
    )
    return [tuple(row) for row in await conn.execute(query)]
