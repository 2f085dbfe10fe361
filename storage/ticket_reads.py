"""Ticket reads for people: a ticket with its newest events (`show`), the ticket of a thread,
and the lists (`/ticket list`, App Home)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.read_models import EventView
from bot.domain.tickets import NextDue, Ticket
from storage.review import stored_next_due
from storage.tickets import BY_NUMBERS, EVENTS, NUMBERS, TICKETS, to_ticket

SHOWN_EVENTS = 20  # the newest events `show` lists in its History (README: why 20)
_OLDER = EVENTS.alias("older")
# The id of a ticket's (SHOWN_EVENTS + 1)-th newest event (none when it has fewer): per
# ticket, an index seek and that many steps back along ix_ticket_events_ticket_number, so
# `show` reads only the events it lists and one more, which says there are older ones (a
# window over every event of the batch's tickets, joined back to them, cost SQLite a scan
# of them all per ticket).
_OLDEST_SHOWN = (
    select(_OLDER.c.id)
    .where(_OLDER.c.ticket_number == TICKETS.c.number)
    .order_by(_OLDER.c.id.desc())
    .limit(1)
    .offset(SHOWN_EVENTS)
    .correlate(TICKETS)
    .scalar_subquery()
)
# The events of the tickets, newest SHOWN_EVENTS + 1 each, oldest first; the tickets are
# read on their own (BY_NUMBERS), not repeated on every event row. Of an event's record
# only what its line shows: the text given and the class set, taken out of the JSON by the
# database (decoding every record in Python was most of the work of `show`).
NEWEST_EVENTS: Select[Any] = (
    select(
        TICKETS.c.number,
        EVENTS.c.at,
        EVENTS.c.actor_id,
        EVENTS.c.kind,
        EVENTS.c.after["text"].as_string(),
        EVENTS.c.after["severity"].as_string(),
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
    .where(TICKETS.c.number.in_(NUMBERS))
    .order_by(TICKETS.c.number, EVENTS.c.id)
)


# What `show` reads of one ticket: the ticket, its newest events, and whether it has older
# ones (None: no such ticket).
Shown = tuple[Ticket, list[EventView], bool] | None


async def ticket_and_events(conn: AsyncConnection, number: int) -> Shown:
    """The ticket, its newest :data:`SHOWN_EVENTS` events (oldest first), and whether it has
    older ones."""
    return (await tickets_and_events(conn, [number])).get(number)


async def tickets_and_events(
    conn: AsyncConnection, numbers: Sequence[int]
) -> dict[int, tuple[Ticket, list[EventView], bool]]:
    """:func:`ticket_and_events` of several tickets, with two statements for them all (a
    ticket that does not exist is absent)."""
    params = {"numbers": list(numbers)}
    tickets = {row.number: to_ticket(row) for row in await conn.execute(BY_NUMBERS, params)}
    events: dict[int, list[EventView]] = {number: [] for number in tickets}
    if tickets:
        for number, at, actor, kind, text, severity in await conn.execute(NEWEST_EVENTS, params):
            events[number].append(EventView(at, actor, kind, text, severity))
    return {
        number: (ticket, events[number][-SHOWN_EVENTS:], len(events[number]) > SHOWN_EVENTS)
        for number, ticket in tickets.items()
    }


async def ticket_at_message(conn: AsyncConnection, channel: str, ts: str) -> Ticket | None:
    """The ticket whose message is ``ts`` in ``channel`` (for commands said in its thread)."""
    result = await conn.execute(
        select(TICKETS).where(TICKETS.c.message_channel == channel, TICKETS.c.message_ts == ts)
    )
    row = result.first()
    return to_ticket(row) if row else None


@dataclass(frozen=True)
class TicketList:
    """The first tickets of a list in order of time left, each with its next deadline
    (none: no deadline to meet), and how many tickets the list holds in all."""

    tickets: list[tuple[Ticket, NextDue | None]]
    total: int


async def list_tickets(
    conn: AsyncConnection,
    *,
    not_in: Sequence[str],
    severity: str | None = None,
    involving: str | None = None,
    due_by: datetime | None = None,
    limit: int,
) -> TicketList:
    """Tickets in none of the states ``not_in``, of class ``severity``, assigned to or
    reported by ``involving``, with a deadline by ``due_by``: the first ``limit`` by their
    next deadline (those with none last), then by number, and the count of them all, with
    one statement (an index walk in order, ``ix_tickets_next_due``)."""
    where: list[ColumnElement[bool]] = [TICKETS.c.state.not_in(list(not_in))]
    if severity is not None:
        where.append(TICKETS.c.severity == severity)
    if involving is not None:
        where.append((TICKETS.c.assignee_id == involving) | (TICKETS.c.reporter_id == involving))
    if due_by is not None:
        where.append(TICKETS.c.next_due_at <= due_by)
    total = select(func.count()).select_from(TICKETS).where(*where).scalar_subquery()
    query = (
        select(TICKETS, total.label("listed_total"))
        .where(*where)
        .order_by(TICKETS.c.next_due_at, TICKETS.c.number)
        .limit(limit)
    )
    rows = (await conn.execute(query)).all()
    return TicketList(
        [
            (to_ticket(row), stored_next_due(row.next_due_milestone, row.next_due_at))
            for row in rows
        ],
        rows[0].listed_total if rows else 0,
    )
