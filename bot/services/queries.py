"""Read-only use cases: show, list, and what the Home tab shows (the month's review is
bot.services.review)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Row

from bot.domain.read_models import EventView, HomeData, Listed, TicketView
from bot.domain.roles import Duty, may_do
from bot.domain.tickets import ACTIVE, OPEN_STATES, Ticket, TicketState, ref_of
from bot.errors import UserError
from bot.services.context import Context
from bot.services.group_commit import Batcher
from bot.services.oncall import who_is_on_call
from bot.services.plan import overdue_for
from storage import ticket_reads
from storage.db import Database

SOON = timedelta(hours=1)


Shown = tuple[Ticket, list[Row[Any]]] | None
# Shows asked for together are read with one statement (one batcher per database).
_SHOWS: WeakKeyDictionary[Database, Batcher[int, Shown]] = WeakKeyDictionary()


def _shows(db: Database) -> Batcher[int, Shown]:
    batcher = _SHOWS.get(db)
    if batcher is None:

        async def read(numbers: Sequence[int]) -> list[Shown]:
            async with db.read() as conn:
                found = await ticket_reads.tickets_and_events(conn, sorted(set(numbers)))
            return [found.get(n) for n in numbers]

        batcher = _SHOWS[db] = Batcher(read)
    return batcher


async def show(ctx: Context, number: int) -> TicketView:
    """The ticket with its newest events; shows that arrive together share one read."""
    shown = await _shows(ctx.db).submit(number)
    if shown is None:
        raise UserError("There is no ticket %(ref)s.", ref=ref_of(number))
    ticket, rows = shown
    events = [
        EventView(r.event_at, r.event_actor, r.event_kind, r.event_before, r.event_after)
        for r in rows
    ]
    return TicketView(ticket, ctx.deadlines(ticket), events)


def unmet(ctx: Context, ticket: Ticket) -> dict[str, datetime]:
    """The deadlines of milestones not met yet (none once resolved or closed)."""
    if ticket.state not in ACTIVE and ticket.state is not TicketState.AWAITING_APPROVAL:
        return {}
    met = ticket.met_at()
    return {name: due for name, due in ctx.deadlines(ticket).items() if met.get(name) is None}


def next_due(ctx: Context, ticket: Ticket) -> tuple[str, datetime] | None:
    pending = unmet(ctx, ticket)
    if not pending:
        return None
    name = min(pending, key=lambda n: pending[n])
    return name, pending[name]


async def list_tickets(ctx: Context, *, choice: str, user_id: str) -> list[Listed]:
    """``open``, ``mine`` (assigned to or reported by the user), ``breaching`` (a milestone
    overdue or due within the hour), or a class."""
    async with ctx.db.read() as conn:
        tickets = await ticket_reads.list_tickets(
            conn,
            states=[s.value for s in OPEN_STATES],
            severity=choice if choice in ("A", "B", "C", "D") else None,
            involving=user_id if choice == "mine" else None,
        )
    listed = [Listed(t, next_due(ctx, t)) for t in tickets]
    if choice == "breaching":
        limit = ctx.clock.now() + SOON
        listed = [item for item in listed if item.next_due and item.next_due[1] <= limit]
    return sorted(listed, key=_by_time_left)


def _by_time_left(item: Listed) -> tuple[int, datetime | int, int]:
    if item.next_due is None:
        return (1, 0, item.ticket.number)
    return (0, item.next_due[1], item.ticket.number)


async def home(ctx: Context, user_id: str) -> HomeData:
    mine = await list_tickets(ctx, choice="mine", user_id=user_id)
    staff = may_do(Duty.SEE_TEAM, ctx.actor(user_id))
    team = await list_tickets(ctx, choice="open", user_id=user_id) if staff else None
    overdue = [
        (t.customer, t.task, t.nominal, t.overdue_at) for t in await overdue_for(ctx, user_id)
    ]
    return HomeData(mine=mine, team=team, on_call=await who_is_on_call(ctx), overdue_plan=overdue)
