"""Ticket queries: numbering, insert, load, and the append-only event log."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.expression import BindParameter

from bot.domain.tickets import NewTicket, Promise, Ticket, TicketState
from bot.sla.deadlines import Pause
from bot.sla.policy import Severity
from storage.review import DEADLINE_COLUMNS, deadline_values
from storage.tables import Counter, TicketEventRow, TicketRow, table_of

# The busiest reads are Core statements built once (the ORM's per-row and per-statement work
# is most of their cost; measured in docs/benchmarks.md).
TICKETS = table_of(TicketRow)
EVENTS = table_of(TicketEventRow)
COUNTERS = table_of(Counter)
_INSERT_TICKETS = insert(TICKETS)
_INSERT_EVENTS = insert(EVENTS)
_BY_NUMBER = select(TICKETS).where(TICKETS.c.number == bindparam("number"))
# The ``numbers`` of the statements that take a list of ticket numbers.
NUMBERS: BindParameter[list[int]] = bindparam("numbers", expanding=True)
BY_NUMBERS = select(TICKETS).where(TICKETS.c.number.in_(NUMBERS))
_LOCK_NUMBERS = BY_NUMBERS.with_for_update()
_BY_INTAKE_KEYS = select(TICKETS).where(TICKETS.c.intake_key.in_(bindparam("keys", expanding=True)))
_TAKE_NUMBERS = (
    update(COUNTERS)
    .where(COUNTERS.c.name == "ticket")
    .values(value=COUNTERS.c.value + bindparam("count"))
    .returning(COUNTERS.c.value)
)


_LOCK_COUNTER = select(COUNTERS.c.value).where(COUNTERS.c.name == "ticket").with_for_update()


async def lock_numbers(conn: AsyncConnection) -> None:
    """Hold the ticket counter until the caller's transaction ends: reports stored meanwhile
    elsewhere (another replica) wait, so what this transaction reads after it (the intake
    keys already stored) includes theirs. SQLite's write transaction holds it already (no
    statement there: a report's batch pays no hand-over to aiosqlite's thread for it)."""
    if conn.dialect.name != "sqlite":
        await conn.execute(_LOCK_COUNTER)


async def take_numbers(conn: AsyncConnection, count: int) -> range:
    """``count`` consecutive ticket numbers, in the caller's transaction (gap-free)."""
    result = await conn.execute(_TAKE_NUMBERS, {"count": count})
    last = int(result.scalar_one())
    return range(last - count + 1, last + 1)


async def insert_many(
    conn: AsyncConnection,
    rows: Sequence[tuple[NewTicket, int, str | None]],
    *,
    now: datetime,
    promised: Callable[[Ticket], Promise] | None = None,
) -> list[Ticket]:
    """Insert new tickets (ticket, number, intake key) with one statement. ``promised``:
    each new ticket's deadlines as promised, stored in the same INSERT (for the month's
    review and the lists; ``storage.review.deadline_values``)."""
    tickets = [new.numbered(number) for new, number, _ in rows]
    values: list[dict[str, Any]] = [
        {
            "number": number,
            "intake_key": key,
            "severity": new.severity.value,
            "state": new.state.value,
            "summary": new.summary,
            "details": new.details,
            "system": new.system,
            "reporter_id": new.reporter_id,
            "origin_channel": new.origin_channel,
            "post_channel": new.post_channel,
            "customer": new.customer,
            "in_warranty": new.in_warranty,
            "reported_at": new.reported_at,
            "version": 1,
            "updated_at": now,
            "pauses": [],
            "extra": {},
            "cause": "",
            "plan": "",
            "resolution": "",
            "rating_comment": "",
        }
        for new, number, key in rows
    ]
    if promised is not None:
        for row, ticket in zip(values, tickets, strict=True):
            row |= deadline_values(ticket, promised(ticket))
    if values:
        await conn.execute(_INSERT_TICKETS, values)
    return tickets


async def find_by_intake_keys(conn: AsyncConnection, keys: Sequence[str]) -> dict[str, Ticket]:
    if not keys:
        return {}
    rows = await conn.execute(_BY_INTAKE_KEYS, {"keys": list(keys)})
    return {row.intake_key: to_ticket(row) for row in rows if row.intake_key is not None}


@dataclass(frozen=True)
class NewEvent:
    ticket_number: int
    actor_id: str
    kind: str
    before: dict[str, Any]
    after: dict[str, Any]


async def append_events(conn: AsyncConnection, events: Sequence[NewEvent], *, at: datetime) -> None:
    if events:
        await conn.execute(
            _INSERT_EVENTS,
            [
                {
                    "ticket_number": e.ticket_number,
                    "at": at,
                    "actor_id": e.actor_id,
                    "kind": e.kind,
                    "before": e.before,
                    "after": e.after,
                }
                for e in events
            ],
        )


async def get_ticket(conn: AsyncConnection, number: int) -> Ticket | None:
    row = (await conn.execute(_BY_NUMBER, {"number": number})).first()
    return to_ticket(row) if row else None


async def ticket_and_location(
    conn: AsyncConnection, number: int
) -> tuple[Ticket | None, tuple[str, str] | None]:
    """The ticket and where its message is (once posted), with one read."""
    row = (await conn.execute(_BY_NUMBER, {"number": number})).first()
    if row is None:
        return None, None
    posted = row.message_ts is not None and row.message_channel is not None
    return to_ticket(row), (row.message_channel or "", row.message_ts or "") if posted else None


async def message_location(conn: AsyncConnection, number: int) -> tuple[str, str] | None:
    """Channel and ts of the ticket's message, once it has been posted."""
    row = (await conn.execute(_BY_NUMBER, {"number": number})).first()
    if row is None or row.message_ts is None or row.message_channel is None:
        return None
    return row.message_channel, row.message_ts


async def set_message_location(
    conn: AsyncConnection, number: int, *, channel: str, ts: str
) -> None:
    await conn.execute(
        update(TicketRow)
        .where(TicketRow.number == number)
        .values(message_channel=channel, message_ts=ts)
    )


def to_ticket(row: Row[Any]) -> Ticket:
    """The ticket of a stored row (a Core row of the tickets table)."""
    return Ticket(
        number=row.number,
        summary=row.summary,
        details=row.details,
        system=row.system,
        severity=Severity(row.severity),
        state=TicketState(row.state),
        reporter_id=row.reporter_id,
        origin_channel=row.origin_channel,
        post_channel=row.post_channel,
        customer=row.customer,
        in_warranty=row.in_warranty,
        assignee_id=row.assignee_id,
        reported_at=row.reported_at,
        acknowledged_at=row.acknowledged_at,
        cause_at=row.cause_at,
        plan_at=row.plan_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        version=row.version,
        fix_date=row.fix_date,
        pauses=tuple(_pause(p) for p in row.pauses or ()),
        cause=row.cause,
        plan=row.plan,
        resolution=row.resolution,
        rating=row.rating,
        rating_comment=row.rating_comment,
        extra=dict(row.extra or {}),
    )


def _pause(raw: Any) -> Pause:
    start, end = raw
    return Pause(
        start=datetime.fromisoformat(start), end=datetime.fromisoformat(end) if end else None
    )


def pauses_json(pauses: tuple[Pause, ...]) -> list[list[str | None]]:
    return [[p.start.isoformat(), p.end.isoformat() if p.end else None] for p in pauses]


async def numbers_except(conn: AsyncConnection, states: Iterable[TicketState]) -> list[int]:
    """The numbers of every ticket in none of ``states``, in order."""
    query = select(TicketRow.number).where(TicketRow.state.not_in([s.value for s in states]))
    return list(await conn.scalars(query.order_by(TicketRow.number)))


async def lock_tickets(conn: AsyncConnection, numbers: Iterable[int]) -> dict[int, Ticket]:
    """Load tickets to change them (row locks on PostgreSQL; SQLite's write lock is held)."""
    rows = await conn.execute(_LOCK_NUMBERS, {"numbers": list(numbers)})
    return {row.number: to_ticket(row) for row in rows}


async def save_tickets(
    conn: AsyncConnection,
    tickets: Sequence[Ticket],
    *,
    now: datetime,
    loaded: Mapping[int, Ticket] | None = None,
    promised: Mapping[int, Promise] | None = None,
) -> None:
    """Write back the fields a step may change; each ``ticket.version`` is its new version.
    ``loaded``: the tickets as read in this transaction; the fields they hold already are
    not written again. ``promised``: each ticket's deadlines as promised and next one due,
    stored with it for the month's review and the lists (``storage.review.deadline_values``)
    in the same statement (a ticket absent from it keeps those stored). One
    statement for all the tickets with the same changed fields."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for ticket in tickets:
        fields = _changed_fields(ticket, now)
        before = loaded.get(ticket.number) if loaded is not None else None
        names: tuple[str, ...] = _CHANGEABLE
        if before is not None:
            old = _changed_fields(before, now)
            names = tuple(n for n in _CHANGEABLE if fields[n] != old[n] or n in _ALWAYS)
        row = {n: fields[n] for n in names}
        promise = promised.get(ticket.number) if promised is not None else None
        if promise is not None:
            row |= deadline_values(ticket, promise)
            names += DEADLINE_COLUMNS
        row["ticket_number"] = ticket.number
        groups.setdefault(names, []).append(row)
    for names, rows in groups.items():
        await conn.execute(_save(names), rows)


_CHANGEABLE = (
    "severity",
    "state",
    "assignee_id",
    "acknowledged_at",
    "cause_at",
    "plan_at",
    "resolved_at",
    "closed_at",
    "fix_date",
    "pauses",
    "cause",
    "plan",
    "resolution",
    "rating",
    "rating_comment",
    "extra",
    "version",
    "updated_at",
)
_ALWAYS = ("version", "updated_at")


@functools.lru_cache(maxsize=256)
def _save(names: tuple[str, ...]) -> Update:
    """The UPDATE of these fields, built once per set of fields (a step changes a few)."""
    return (
        update(TICKETS)
        .where(TICKETS.c.number == bindparam("ticket_number"))
        .values({name: bindparam(name) for name in names})
    )


def _changed_fields(ticket: Ticket, now: datetime) -> dict[str, Any]:
    return {
        "ticket_number": ticket.number,
        "severity": ticket.severity.value,
        "state": ticket.state.value,
        "assignee_id": ticket.assignee_id,
        "acknowledged_at": ticket.acknowledged_at,
        "cause_at": ticket.cause_at,
        "plan_at": ticket.plan_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "fix_date": ticket.fix_date,
        "pauses": pauses_json(ticket.pauses),
        "cause": ticket.cause,
        "plan": ticket.plan,
        "resolution": ticket.resolution,
        "rating": ticket.rating,
        "rating_comment": ticket.rating_comment,
        "extra": ticket.extra,
        "version": ticket.version,
        "updated_at": now,
    }
