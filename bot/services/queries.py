"""Read-only use cases: show, list, and what the Home tab shows (the month's review is
bot.services.review)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.domain.read_models import HomeData, Listed, Listing, TicketView
from bot.domain.roles import Duty, may_do
from bot.domain.tickets import OPEN_STATES, TicketState, ref_of
from bot.errors import UserError
from bot.services.context import Context
from bot.services.group_commit import Batcher
from bot.services.oncall import who_is_on_call
from bot.services.plan import overdue_for
from bot.sla.policy import Severity
from bot.slack.views import MAX_LISTED
from storage import ticket_reads
from storage.db import Database
from storage.ticket_reads import Shown

SOON = timedelta(hours=1)
CLASSES = frozenset(s.value for s in Severity)
NOT_LISTED = sorted(set(TicketState) - OPEN_STATES)  # the lists show open tickets


def show_reads(db: Database) -> Batcher[int, Shown]:
    """The reads behind ``show``: shows asked for together are read with one statement. One
    per database, built by the composition root (``bot.app.build``: ``Context.shows``)."""

    async def read(numbers: Sequence[int]) -> list[Shown]:
        async with db.read() as conn:
            found = await ticket_reads.tickets_and_events(conn, sorted(set(numbers)))
        return [found.get(n) for n in numbers]

    return Batcher(read)


async def show(ctx: Context, number: int) -> TicketView:
    """The ticket with its newest events; shows that arrive together share one read."""
    if ctx.shows is not None:
        shown = await ctx.shows.submit(number)
    else:  # a context without the batcher (a script, a test): a read of its own
        async with ctx.db.read() as conn:
            shown = await ticket_reads.ticket_and_events(conn, number)
    if shown is None:
        raise UserError("There is no ticket %(ref)s.", ref=ref_of(number))
    ticket, events, earlier = shown
    return TicketView(ticket, ctx.schedule(ticket).listed(), events, earlier)


async def list_tickets(
    ctx: Context, *, choice: str, user_id: str, limit: int = MAX_LISTED
) -> Listing:
    """``open``, ``mine`` (assigned to or reported by the user), ``breaching`` (a milestone
    overdue or due within the hour), or a class: the first ``limit`` by time left (the
    tickets with no deadline to meet last), and how many in all, read with one statement."""
    async with ctx.db.read() as conn:
        found = await ticket_reads.list_tickets(
            conn,
            not_in=NOT_LISTED,
            severity=choice if choice in CLASSES else None,
            involving=user_id if choice == "mine" else None,
            due_by=ctx.clock.now() + SOON if choice == "breaching" else None,
            limit=limit,
        )
    return Listing([Listed(ticket, due) for ticket, due in found.tickets], found.total)


async def home(ctx: Context, user_id: str) -> HomeData:
    mine = await list_tickets(ctx, choice="mine", user_id=user_id)
    staff = may_do(Duty.SEE_TEAM, ctx.actor(user_id))
    team = await list_tickets(ctx, choice="open", user_id=user_id) if staff else None
    overdue = [
        (t.customer, t.task, t.nominal, t.overdue_at) for t in await overdue_for(ctx, user_id)
    ]
    return HomeData(
        mine=mine.items,
        team=team.items if team is not None else None,
        on_call=await who_is_on_call(ctx),
        overdue_plan=overdue,
        mine_total=mine.total,
        team_total=team.total if team is not None else None,
    )
