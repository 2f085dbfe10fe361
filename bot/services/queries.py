"""Read-only use cases: show, list, the monthly report, and what the Home tab shows."""

from __future__ import annotations

import calendar as month_calendar
from datetime import datetime, timedelta

from bot.domain.read_models import EventView, HomeData, Listed, MonthReport, TicketView
from bot.domain.tickets import ACTIVE, OPEN_STATES, Ticket, TicketState, ref_of
from bot.domain.workflow import Duty, may_do
from bot.errors import UserError
from bot.services.context import Context
from bot.services.oncall import who_is_on_call
from storage import tickets as ticket_store

SOON = timedelta(hours=1)


async def show(ctx: Context, number: int) -> TicketView:
    async with ctx.db.read() as conn:
        ticket, rows = await ticket_store.ticket_and_events(conn, number)
    if ticket is None:
        raise UserError("There is no ticket %(ref)s.", ref=ref_of(number))
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
        tickets = await ticket_store.list_tickets(
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


async def monthly_report(ctx: Context, month: str) -> MonthReport:
    """Tickets reported in ``month`` (YYYY-MM, local time; empty = this month)."""
    tz = ctx.config.tz
    now_local = ctx.clock.now().astimezone(tz)
    if not month:
        month = f"{now_local.year:04d}-{now_local.month:02d}"
    year, mon = (int(part) for part in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=tz)
    days = month_calendar.monthrange(year, mon)[1]
    end = start + timedelta(days=days)
    async with ctx.db.read() as conn:
        tickets = await ticket_store.list_tickets(
            conn, reported_between=(start, end), limit=100_000
        )
    by_class = {c: 0 for c in "ABCD"}
    met: dict[str, list[int]] = {m: [0, 0] for m in ("respond", "diagnose", "plan", "resolve")}
    now = ctx.clock.now()
    for ticket in tickets:
        by_class[ticket.severity.value] += 1
        done = ticket.met_at()
        for name, due in ctx.deadlines(ticket).items():
            when = done.get(name)
            if when is None and due > now:
                continue  # still running: neither met nor missed
            met[name][1] += 1
            if when is not None and when <= due:
                met[name][0] += 1
    return MonthReport(
        month=month,
        by_class=by_class,
        met={k: (v[0], v[1]) for k, v in met.items()},
        ratings=[t.rating for t in tickets if t.rating is not None],
        closed=sum(1 for t in tickets if t.state is TicketState.CLOSED),
        autoclosed=sum(1 for t in tickets if t.extra.get("autoclosed")),
    )


async def home(ctx: Context, user_id: str) -> HomeData:
    mine = await list_tickets(ctx, choice="mine", user_id=user_id)
    staff = may_do(Duty.SEE_TEAM, ctx.actor(user_id))
    team = await list_tickets(ctx, choice="open", user_id=user_id) if staff else None
    return HomeData(mine=mine, team=team, on_call=await who_is_on_call(ctx))
