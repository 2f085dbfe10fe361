"""The service plan (SPEC §3 ``[service_plan]``, §6; JZB10-2008 §5.4): per-customer tasks that
come round at a cadence. Pure rules: which tasks a customer has, when each occurrence falls
due (on the working calendar, never on a day off), who does it, when it is overdue, and
which occurrences a catch-up after downtime sends. No I/O, no wall clock.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from bot.errors import ConfigError
from bot.sla.calendar import CalendarRangeError, WorkCalendar
from bot.sla.policy import parse_duration


class PlanTask(StrEnum):
    CALL = "call"  # the owner calls the customer (电话交流)
    SURVEY = "survey"  # the contacts get the service-quality survey (客户服务质量调查表)
    VISIT = "visit"  # the owner visits (技术人员定期客户访问)
    INSPECTION = "inspection"  # a manager reviews the customer (经理定期客户巡查)
    TRAINING = "training"  # the owner gives on-site training


class TaskState(StrEnum):
    PENDING = "pending"  # armed, not due yet
    OPEN = "open"  # sent, waiting for Done, Skip or (survey) an answer
    DONE = "done"
    SKIPPED = "skipped"
    SUPERSEDED = "superseded"  # fell due while the bot was down; a later one was sent instead


class PlanEventKind(StrEnum):
    DUE = "due"
    SUPERSEDED = "superseded"
    DONE = "done"
    SKIPPED = "skipped"
    ANSWERED = "answered"


SURVEY_SCALE = range(1, 6)  # 1-5
REASON_MAX = 500
COMMENT_MAX = 2000

DEFAULT_CADENCES: dict[PlanTask, str] = {
    PlanTask.CALL: "2w",
    PlanTask.SURVEY: "1mo",
    PlanTask.VISIT: "1mo",
    PlanTask.INSPECTION: "2mo",
    PlanTask.TRAINING: "6mo",
}


@dataclass(frozen=True)
class Cadence:
    """How often a task comes round: calendar months and days (``2w`` is 14 days)."""

    months: int = 0
    days: int = 0

    def after(self, day: date, times: int = 1) -> date:
        """``day`` plus ``times`` cadences; a month that lacks the day ends the month
        (Jan 31 + 1mo is Feb 28 or 29)."""
        months = self.months * times
        year, month0 = divmod(day.month - 1 + months, 12)
        year += day.year
        last = month_calendar.monthrange(year, month0 + 1)[1]
        moved = date(year, month0 + 1, min(day.day, last))
        return moved + timedelta(days=self.days * times)

    def __str__(self) -> str:
        weeks, days = divmod(self.days, 7)
        text = f"{self.months}mo" if self.months else ""
        text += f"{weeks}w" if weeks else ""
        return text + (f"{days}d" if days else "")


def parse_cadence(text: object, *, key: str) -> Cadence | None:
    """``"2w"``, ``"1mo"``, … through the one duration parser; ``""`` turns the task off."""
    if text == "":
        return None
    if not isinstance(text, str):
        raise ConfigError(key, f'expected a cadence such as "2w" or "1mo" in quotes, got {text!r}')
    duration = parse_duration(text, key=key)
    if duration.seconds:
        raise ConfigError(key, f"{text!r}: a cadence is whole days, weeks or months (1d, 2w, 1mo)")
    return Cadence(months=duration.months, days=duration.days)


@dataclass(frozen=True)
class ServicePlan:
    """Every task with its cadence (None: off)."""

    cadences: tuple[tuple[PlanTask, Cadence | None], ...]

    def cadence(self, task: PlanTask) -> Cadence | None:
        return dict(self.cadences).get(task)

    def active(self) -> list[tuple[PlanTask, Cadence]]:
        return [(task, c) for task, c in self.cadences if c is not None]

    def describe(self) -> str:
        return ", ".join(f"{task} {c or 'off'}" for task, c in self.cadences)


def parse_plan(table: Mapping[str, object], *, key: str, base: ServicePlan | None) -> ServicePlan:
    """The ``[service_plan]`` table over the defaults, or ``[customers.plan]`` over ``base``."""
    known = {task.value for task in PlanTask}
    for name in table:
        if name not in known:
            raise ConfigError(f"{key}.{name}", f"unknown task (known: {', '.join(sorted(known))})")
    cadences: list[tuple[PlanTask, Cadence | None]] = []
    for task in PlanTask:
        if task.value in table:
            cadence = parse_cadence(table[task.value], key=f"{key}.{task.value}")
        elif base is not None:
            cadence = base.cadence(task)
        else:
            cadence = parse_cadence(DEFAULT_CADENCES[task], key=f"{key}.{task.value}")
        cadences.append((task, cadence))
    return ServicePlan(tuple(cadences))


DEFAULT_PLAN = parse_plan({}, key="service_plan", base=None)


def recipients(
    task: PlanTask, *, owner: str | None, contacts: Sequence[str], managers: Sequence[str]
) -> tuple[str, ...]:
    """Who gets the task's direct message: the contacts for the survey, the managers for an
    inspection (and for the owner's tasks of a customer with no owner), else the owner."""
    if task is PlanTask.SURVEY:
        return tuple(contacts)
    if task is PlanTask.INSPECTION or owner is None:
        return tuple(managers)
    return (owner,)


def due_at(nominal: date, calendar: WorkCalendar) -> datetime:
    """When an occurrence meant for ``nominal`` is sent: the opening of that day, or of the
    next working day when it is no working day (never on a holiday). In a year whose
    holidays the calendar does not know, the next configured weekday that is no extra
    holiday (a plan task must not wait for the holiday data)."""
    try:
        return calendar.next_opening(datetime.combine(nominal, time(0), tzinfo=calendar.tz))
    except CalendarRangeError:
        day = nominal
        while day.weekday() not in calendar.workdays or day in calendar.extra_holidays:
            day += timedelta(days=1)
        opens = calendar.spans[0][0] if calendar.spans else 0
        return datetime.combine(day, time(opens // 60, opens % 60), tzinfo=calendar.tz)


@dataclass(frozen=True)
class Occurrence:
    """One time a task comes round: it counts from ``base`` (the day the plan began, or the
    day it was last set anew: a changed cadence, a task turned on again), a whole number of
    cadences on, is meant for ``nominal`` and sent at ``due``; not done by ``overdue_at``
    (when the next one is sent) it is overdue. Counting each from ``base``, not from the
    one before, keeps a monthly task begun on the 31st at the end of each month (01-31,
    02-28, 03-31), rather than at the 28th for good after February."""

    base: date
    nominal: date
    due: datetime
    overdue_at: datetime


def _next_count(base: date, cadence: Cadence, after: date) -> int:
    """The fewest cadences from ``base`` that land after ``after`` (at least one)."""
    below, above = 0, 1  # cadence.after(base, n) grows with n: a search by halves
    while cadence.after(base, above) <= after:
        below, above = above, above * 2
    while above - below > 1:
        middle = (below + above) // 2
        if cadence.after(base, middle) <= after:
            below = middle
        else:
            above = middle
    return above


def occurrence_after(
    base: date, cadence: Cadence, calendar: WorkCalendar, *, after: date | None = None
) -> Occurrence:
    """The first occurrence counted from ``base`` that is meant for a day after ``after``
    (None: the first one, one cadence after ``base``)."""
    times = 1 if after is None else _next_count(base, cadence, after)
    nominal = cadence.after(base, times)
    return Occurrence(
        base=base,
        nominal=nominal,
        due=due_at(nominal, calendar),
        overdue_at=due_at(cadence.after(base, times + 1), calendar),
    )


def catch_up(
    base: date,
    cadence: Cadence,
    now: datetime,
    calendar: WorkCalendar,
    *,
    nominal: date | None = None,
) -> tuple[Occurrence, list[Occurrence], Occurrence]:
    """The occurrence counted from ``base`` and meant for ``nominal`` (None: the first one)
    fell due at ``now``: the one to send (the latest due), the earlier ones it supersedes
    (due too, while nothing could send them), and the next one to arm."""
    before = None if nominal is None else nominal - timedelta(days=1)
    current = occurrence_after(base, cadence, calendar, after=before)
    skipped: list[Occurrence] = []
    following = occurrence_after(base, cadence, calendar, after=current.nominal)
    while following.due <= now:
        skipped.append(current)
        current = following
        following = occurrence_after(base, cadence, calendar, after=current.nominal)
    return current, skipped, following


def is_overdue(state: TaskState, overdue_at: datetime, now: datetime) -> bool:
    """An occurrence sent and neither done, skipped nor answered within its cadence."""
    return state is TaskState.OPEN and overdue_at <= now


def first_working_day(year: int, month: int, calendar: WorkCalendar) -> datetime:
    """The opening of the first working day of the month: when its review is posted."""
    return due_at(date(year, month, 1), calendar)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)
