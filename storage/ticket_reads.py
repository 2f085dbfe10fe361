"""Ticket reads for people: a ticket with its newest events (`show`), the ticket of a thread,
and the lists (`/ticket list`, App Home)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import BindParameter

from bot.domain.tickets import Ticket
from storage.tables import TicketRow
from storage.tickets import BY_NUMBERS, EVENTS, TICKETS, to_ticket

SHOWN_EVENTS = 60  # the newest events `show` reads: more than its History section holds
_NUMBERS: BindParameter[list[int]] = bindparam("numbers", expanding=True)
_OLDER = EVENTS.alias("older")
# The id of a ticket's SHOWN_EVENTS-th newest event (none when it has fewer): per ticket, an
# index seek and SHOWN_EVENTS steps back along ix_ticket_events_ticket_number, so `show`
# reads only the events it returns (a window over every event of the batch's tickets, joined
# back to them, cost SQLite a scan of them all per ticket).
_OLDEST_SHOWN = (
    select(_OLDER.c.id)
    .where(_OLDER.c.ticket_number == TICKETS.c.number)
    .order_by(_OLDER.c.id.desc())
    .limit(1)
    .offset(SHOWN_EVENTS - 1)
    .correlate(TICKETS)
    .scalar_subquery()
)
# The events of the tickets, newest SHOWN_EVENTS each, oldest first; the tickets are read on
# their own (_BY_NUMBERS), not repeated on every event row.
_NEWEST_EVENTS: Select[Any] = (
    select(
        TICKETS.c.number,
        EVENTS.c.at.label("event_at"),
        EVENTS.c.actor_id.label("event_actor"),
        EVENTS.c.kind.label("event_kind"),
        EVENTS.c.before.label("event_before"),
        EVENTS.c.after.label("event_after"),
    )
    .select_from(
        TICKETS.join(
            EVENTS,
            and_(
                EVENTS.c.ticket_number == TICKETS.c.number,
                EVENTS.c.id >= func.coalesce(_OLDEST_SHOWN, 0),
            ),
        )
    )
    .where(TICKETS.c.number.in_(_NUMBERS))
    .order_by(TICKETS.c.number, EVENTS.c.id)
)


async def ticket_and_events(
    conn: AsyncConnection, number: int
) -> tuple[Ticket | None, list[Row[Any]]]:
    """The ticket and its newest :data:`SHOWN_EVENTS` events, oldest first (event rows have
    ``event_at``, ``event_actor``, ``event_kind``, ``event_before`` and ``event_after``)."""
    return (await tickets_and_events(conn, [number])).get(number, (None, []))


async def tickets_and_events(
    conn: AsyncConnection, numbers: Sequence[int]
) -> dict[int, tuple[Ticket, list[Row[Any]]]]:
    """:func:`ticket_and_events` of several tickets, with two statements for them all (a
    ticket that does not exist is absent)."""
    params = {"numbers": list(numbers)}
    found: dict[int, tuple[Ticket, list[Row[Any]]]] = {
        row.number: (to_ticket(row), []) for row in await conn.execute(BY_NUMBERS, params)
    }
    if found:
        for row in await conn.execute(_NEWEST_EVENTS, params):
            found[row.number][1].append(row)
    return found


async def ticket_at_message(conn: AsyncConnection, channel: str, ts: str) -> Ticket | None:
    """The ticket whose message is ``ts`` in ``channel`` (for commands said in its thread)."""
    result = await conn.execute(
        select(TICKETS).where(TICKETS.c.message_channel == channel, TICKETS.c.message_ts == ts)
    )
    row = result.first()
    return to_ticket(row) if row else None


async def list_tickets(
    conn: AsyncConnection,
    *,
    states: Sequence[str] | None = None,
    severity: str | None = None,
    involving: str | None = None,
    reported_between: tuple[datetime, datetime] | None = None,
    limit: int = 500,
) -> list[Ticket]:
    query = select(TICKETS)
    if states is not None:
        query = query.where(TicketRow.state.in_(list(states)))
    if severity is not None:
        query = query.where(TicketRow.severity == severity)
    if involving is not None:
        query = query.where(
            (TicketRow.assignee_id == involving) | (TicketRow.reporter_id == involving)
        )
    if reported_between is not None:
        start, end = reported_between
        query = query.where(TicketRow.reported_at >= start, TicketRow.reported_at < end)
    rows = await conn.execute(query.order_by(TicketRow.number).limit(limit))
    return [to_ticket(row) for row in rows]
