"""Use case: the month's review (SPEC §6). The figures come from SQL (storage.review); this
module only puts them together: per class, per customer, and for the whole month."""

from __future__ import annotations

import logging
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.service_plan import next_month
from bot.domain.tickets import deadlines_of
from bot.errors import UserError
from bot.services.context import Context
from bot.sla.calendar import CalendarRangeError
from bot.sla.deadlines import Deadlines
from storage import review as review_store
from storage import tickets as ticket_store

log = logging.getLogger(__name__)

MILESTONES = review_store.MILESTONES
CLASSES = ("A", "B", "C", "D")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def next(self) -> Month:
        return Month(*next_month(self.year, self.month))


def parse_month(text: str) -> Month:
    """``YYYY-MM``; a bad month is the user's error, with the right form."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise UserError(f"{text!r} is not a month; write it as YYYY-MM, e.g. 2026-10.")
    return Month(int(match.group(1)), int(match.group(2)))


def this_month(ctx: Context) -> Month:
    local = ctx.clock.now().astimezone(ctx.config.tz)
    return Month(local.year, local.month)


@dataclass
class Kept:
    """Promises of one milestone: met in time, and due (met, or past the deadline)."""

    met: int = 0
    due: int = 0

    @property
    def breaches(self) -> int:
        return self.due - self.met

    @property
    def share(self) -> float | None:
        return self.met / self.due if self.due else None


@dataclass
class Rated:
    count: int = 0
    total: int = 0

    @property
    def average(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass
class PlanKept:
    due: int = 0
    done: int = 0
    skipped: int = 0
    overdue: int = 0


@dataclass
class Group:
    """The figures of a class or a customer."""

    tickets: int = 0
    closed: int = 0
    kept: dict[str, Kept] = field(default_factory=lambda: {m: Kept() for m in MILESTONES})
    signoffs: Rated = field(default_factory=Rated)
    surveys: Rated = field(default_factory=Rated)
    plan: PlanKept = field(default_factory=PlanKept)

    @property
    def breaches(self) -> int:
        return sum(k.breaches for k in self.kept.values())

    @property
    def met(self) -> Kept:
        return Kept(
            met=sum(k.met for k in self.kept.values()), due=sum(k.due for k in self.kept.values())
        )


@dataclass(frozen=True)
class Spread:
    """Seconds from report to a milestone: how many, the median and the 90th percentile."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Review:
    month: Month
    start: datetime
    end: datetime
    total: Group
    by_class: dict[str, Group]
    by_customer: dict[str, Group]  # "" for tickets of no customer
    respond: Spread
    resolve: Spread
    answered_at_once: int


def spread(sorted_seconds: Sequence[float]) -> Spread:
    """The median (the middle value, or the mean of the two middle ones) and the 90th
    percentile by nearest rank (the smallest value with at least 90 % at or below it)."""
    if not sorted_seconds:
        return Spread(0, None, None)
    n = len(sorted_seconds)
    p90 = sorted_seconds[max(math.ceil(0.9 * n) - 1, 0)]
    return Spread(n, statistics.median(sorted_seconds), p90)


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
            rows: list[tuple[int, int, Deadlines | None]] = []
            for ticket in tickets.values():
                try:
                    found: Deadlines | None = deadlines_of(
                        ticket, policy=ctx.config.policy, calendar=ctx.config.calendar
                    )
                except CalendarRangeError as error:
                    log.warning("deadlines unknown: %s", error, extra={"ticket": ticket.number})
                    found = None
                rows.append((ticket.number, ticket.version, found))
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
        at_once = await review_store.answered_at_once(conn, start, end)
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
