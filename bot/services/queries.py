"""Read-only use cases: show, list, the monthly report, and what the Home tab shows."""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Row

from bot.domain.tickets import Ticket, TicketState
from bot.domain.workflow import ACTIVE
from bot.errors import UserError
from bot.services.context import Context
from bot.services.group_commit import Batcher
from bot.services.oncall import who_is_on_call
from storage import tickets as ticket_store
from storage.db import Database

OPEN_STATES = [s.value for s in (*ACTIVE, TicketState.AWAITING_APPROVAL, TicketState.RESOLVED)]
SOON = timedelta(hours=1)


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor_id: str
    kind: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    deadlines: dict[str, datetime]
    events: list[EventView]


@dataclass(frozen=True)
class Listed:
    ticket: Ticket
    next_due: tuple[str, datetime] | None  # the earliest unmet milestone


Shown = tuple[Ticket, list[Row[Any]]] | None
# Shows asked for together are read with one statement (one batcher per database).
_SHOWS: WeakKeyDictionary[Database, Batcher[int, Shown]] = WeakKeyDictionary()


def _shows(db: Database) -> Batcher[int, Shown]:
    batcher = _SHOWS.get(db)
    if batcher is None:

        async def read(numbers: Sequence[int]) -> list[Shown]:
            async with db.read() as conn:
                found = await ticket_store.tickets_and_events(conn, sorted(set(numbers)))
            return [found.get(n) for n in numbers]

        batcher = _SHOWS[db] = Batcher(read)
    return batcher


async def show(ctx: Context, number: int) -> TicketView:
    """The ticket with its newest events; shows that arrive together share one read."""
    shown = await _shows(ctx.db).submit(number)
    if shown is None:
        raise UserError(f"There is no ticket #{number}.")
    ticket, rows = shown
    events = [
        EventView(r.event_at, r.event_actor, r.event_kind, r.event_before, r.event_after)
        for r in rows
    ]
    return TicketView(ticket, ctx.deadlines(ticket), events)


def unmet(ctx: Context, ticket: Ticket) -> dict[str, datetime]:
    """The deadlines of milestones not met yet (none once resolved or closed)."""
    if ticket.state.value not in (*(s.value for s in ACTIVE), TicketState.AWAITING_APPROVAL.value):
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
            states=OPEN_STATES,
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


@dataclass(frozen=True)
class MonthReport:
    month: str
    by_class: dict[str, int]
    met: dict[str, tuple[int, int]]  # milestone -> (met in time, due)
    ratings: list[int]
    closed: int
    autoclosed: int

    @property
    def average_rating(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None


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


@dataclass(frozen=True)
class HomeData:
    mine: list[Listed]
    team: list[Listed] | None  # for engineers and managers
    on_call: tuple[Any, Any]


async def home(ctx: Context, user_id: str) -> HomeData:
    mine = await list_tickets(ctx, choice="mine", user_id=user_id)
    staff = ctx.config.is_engineer(user_id) or ctx.config.is_manager(user_id)
    team = await list_tickets(ctx, choice="open", user_id=user_id) if staff else None
    return HomeData(mine=mine, team=team, on_call=await who_is_on_call(ctx))
