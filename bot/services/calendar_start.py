"""At each start, open tickets follow the holiday calendar as it is configured and installed
now (SPEC §4): their timers are re-armed from the rules, and where a year that was estimated
when the managers were told is official now (listed in the config, or known after a package
upgrade), the cards of the tickets whose deadlines reach into it are updated and the
managers are told. Deadlines themselves are never stored: every card, reminder and answer
computes them from the calendar each time."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.notices import NoticeKind
from bot.domain.tickets import Ticket, TicketState
from bot.services.arming import replace_timers
from bot.services.context import Context
from bot.services.estimates import estimated_key, official_key, tell_official
from bot.sla.deadlines import Deadlines
from storage import outbox, requests
from storage import tickets as ticket_store
from storage.outbox import NewNotice

log = logging.getLogger(__name__)

CHUNK = 200  # tickets per transaction, so the pass never holds the write lock for long


async def follow_calendar(ctx: Context, *, chunk: int = CHUNK) -> int:
    """Re-arm every ticket that is not closed, ``chunk`` tickets per transaction; return how
    many. A timer whose stage and due instant did not change keeps its row."""
    async with ctx.db.read() as conn:
        numbers = await ticket_store.numbers_except(conn, [TicketState.CLOSED])
    became_official: dict[int, bool] = {}  # year -> estimated when told, official now
    for start in range(0, len(numbers), chunk):
        async with ctx.db.write(background=True) as conn:
            locked = await ticket_store.lock_tickets(conn, numbers[start : start + chunk])
            tickets = [t for t in locked.values() if t.state is not TicketState.CLOSED]
            rearming = await replace_timers(conn, ctx, tickets)
            await _refresh_cards(conn, ctx, tickets, rearming.deadlines, became_official)
    official = [year for year, changed in became_official.items() if changed]
    if official:
        async with ctx.db.write(background=True) as conn:
            await tell_official(conn, ctx.config, official, now=ctx.clock.now())
        log.info("holiday years official now: %s", ", ".join(map(str, sorted(official))))
    if numbers or official:
        ctx.wake_delivery()
    return len(numbers)


def _years(ctx: Context, ticket: Ticket, deadlines: Deadlines | None) -> set[int]:
    """The local years from the report to the last deadline (or agreed fix date)."""
    tz = ctx.config.calendar.tz
    ends = [*(deadlines.as_dict().values() if deadlines else ()), ticket.reported_at]
    first = ticket.reported_at.astimezone(tz).year
    last = max(due.astimezone(tz).year for due in ends)
    if ticket.fix_date is not None:
        last = max(last, ticket.fix_date.year)
    return set(range(first, last + 1))


async def _refresh_cards(
    conn: AsyncConnection,
    ctx: Context,
    tickets: Sequence[Ticket],
    deadlines: Mapping[int, Deadlines | None],
    known: dict[int, bool],
) -> None:
    """Owe an update of the card of each ticket whose deadlines (as just worked out) reach
    into a year that was estimated when the managers were told and is official now."""
    calendar = ctx.config.calendar
    spans = {t.number: _years(ctx, t, deadlines[t.number]) for t in tickets}
    unknown = {y for years in spans.values() for y in years} - known.keys()
    candidates = sorted(y for y in unknown if not calendar.is_estimated(y))
    keys = [estimated_key(y) for y in candidates] + [official_key(y) for y in candidates]
    recorded = await requests.replies_for(conn, keys)
    known.update({y: False for y in unknown})
    known.update(
        {y: estimated_key(y) in recorded and official_key(y) not in recorded for y in candidates}
    )
    stale = [t.number for t in tickets if any(known[y] for y in spans[t.number])]
    await outbox.enqueue_many(
        conn, [NewNotice(n, NoticeKind.TICKET_MESSAGE, {}) for n in stale], now=ctx.clock.now()
    )
