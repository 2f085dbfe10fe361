"""The month's review (SPEC §6) as figures: what each figure means, and the median and
90th percentile. Pure: storage counts, services put the figures together, bot/slack shows
them."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.service_plan import next_month
from bot.errors import UserError

MILESTONES = ("respond", "diagnose", "plan", "resolve")
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
    # from 2000 (no support before) to 9998 (the month after must exist too)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 9998:
        raise UserError(
            "%(text)s is not a month; write it as YYYY-MM, e.g. 2026-10.", text=repr(text)
        )
    return Month(int(match.group(1)), int(match.group(2)))


def check_begun(month: Month, current: Month) -> Month:
    """``month``, when it has begun by ``current`` (this month in the configured timezone);
    a month still to come has no figures: the user's error, saying which month is the latest."""
    if (month.year, month.month) > (current.year, current.month):
        raise UserError(
            "%(month)s has not begun yet; the latest month with figures is %(current)s.",
            month=str(month),
            current=str(current),
        )
    return month


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
