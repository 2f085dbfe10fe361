"""Use case: the month's review (SPEC §6). The figures come from SQL (storage.review); this
module only puts them together: per class, per customer, and for the whole month."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.review import CLASSES, Group, Month, Review, spread
from bot.domain.review import MILESTONES as DOMAIN_MILESTONES
from bot.domain.tickets import Promise, Ticket, deadlines_of
from bot.services.context import Context
from bot.sla.calendar import CalendarRangeError
from storage import kb as kb_store
from storage import review as review_store
from storage import tickets as ticket_store

log = logging.getLogger(__name__)

MILESTONES = review_store.MILESTONES
assert MILESTONES == DOMAIN_MILESTONES


def this_month(ctx: Context) -> Month:
    local = ctx.clock.now().astimezone(ctx.config.tz)
    return Month(local.year, local.month)


def bounds(ctx: Context, month: Month) -> tuple[datetime, datetime]:
    """The month in the configured timezone, as instants [start, end)."""
    tz = ctx.config.tz
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    after = month.next
    return start, datetime(after.year, after.month, 1, tzinfo=tz)


async def refresh_deadlines(ctx: Context, start: datetime, end: datetime) -> int:
    """Work out and store the deadlines of the month's tickets whose stored ones are not of
    their current version (every step and report stores them as it goes; this catches
    tickets stored before, or changed by a path that does not re-arm). Returns how many."""
    refreshed = 0
    while True:
        async with ctx.db.write(background=True) as conn:
            numbers = await review_store.stale_deadline_numbers(conn, start, end)
            if not numbers:
                return refreshed
            tickets = await ticket_store.lock_tickets(conn, numbers)
            rows: list[tuple[Ticket, Promise]] = []
            for ticket in tickets.values():
                try:
                    found = ctx.promised(
                        ticket,
                        deadlines_of(
                            ticket, policy=ctx.config.policy, calendar=ctx.config.calendar
                        ),
                    )
                except CalendarRangeError as error:
                    log.warning("deadlines unknown: %s", error, extra={"ticket": ticket.number})
                    found = Promise(None, None)
                rows.append((ticket, found))
            await review_store.store_deadlines(conn, rows)
        refreshed += len(numbers)


async def month_review(ctx: Context, month: Month) -> Review:
    start, end = bounds(ctx, month)
    await refresh_deadlines(ctx, start, end)
    now = ctx.clock.now()
    total = Group()
    by_class = {c: Group() for c in CLASSES}
    by_customer: dict[str, Group] = {}
    async with ctx.db.read() as conn:
        figures = await review_store.ticket_figures(conn, start, end, now=now)
        surveys = await review_store.survey_figures(conn, start, end)
        plans = await review_store.plan_figures(conn, start, end, now=now)
        respond = spread(await review_store.durations(conn, start, end, "respond"))
        resolve = spread(await review_store.durations(conn, start, end, "resolve"))
        at_once = await kb_store.answered_at_once(conn, start, end)
    for row in figures:
        customer = by_customer.setdefault(row.customer or "", Group())
        for group in (total, by_class.setdefault(row.severity, Group()), customer):
            group.tickets += row.tickets
            group.closed += row.closed
            group.signoffs.count += row.signoffs
            group.signoffs.total += row.signoff_sum
            for name, (met, due) in row.met.items():
                group.kept[name].met += met
                group.kept[name].due += due
    for survey in surveys:
        for group in (total, by_customer.setdefault(survey.customer, Group())):
            group.surveys.count += survey.answers
            group.surveys.total += survey.rating_sum
    for plan in plans:
        for group in (total, by_customer.setdefault(plan.customer, Group())):
            group.plan.due += plan.due
            group.plan.done += plan.done
            group.plan.skipped += plan.skipped
            group.plan.overdue += plan.overdue
    return Review(
        month=month,
        start=start,
        end=end,
        total=total,
        by_class=by_class,
        by_customer=dict(sorted(by_customer.items())),
        respond=respond,
        resolve=resolve,
        answered_at_once=at_once,
    )
