"""The due instant of each milestone of a ticket (SPEC §4), from the policy and a calendar.

Pure: the report time, the time the cause was identified and the pauses come in as
arguments. Reclassifying a ticket is calling :func:`compute_deadlines` again with the new
severity and the same report time. A due instant that depends on a year whose holidays are
estimated (:mod:`bot.sla.holiday_plans`) is provisional: it is computed all the same, and
named in :attr:`Deadlines.provisional`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timedelta

from bot.errors import UserError
from bot.sla.calendar import CalendarRangeError, SlaClock, WorkCalendar
from bot.sla.policy import Anchor, ClockKind, Duration, Milestone, Policy, Severity


@dataclass(frozen=True)
class Pause:
    """A time the ticket waited for the customer; ``end`` is None while it still waits."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class Deadlines:
    """The due instant of each milestone; None where the milestone does not apply.

    ``provisional`` names the milestones with a due instant that depends on estimated
    holidays (:attr:`is_provisional` is the flag). ``stopped`` names the milestones that
    apply but have no due instant because the clock is stopped by an open pause (the
    ticket waits for the customer): their due instant is known again when the pause ends.
    """

    respond: datetime | None
    diagnose: datetime | None
    plan: datetime | None
    resolve: datetime | None
    stopped: tuple[Milestone, ...] = ()
    # Milestones whose due instant depends on a year whose holidays are estimated (no
    # official plan yet), and those years: the due instant may move once it is official.
    provisional: tuple[Milestone, ...] = ()
    estimated_years: tuple[int, ...] = ()

    @property
    def is_provisional(self) -> bool:
        """Whether any due instant depends on estimated holidays."""
        return bool(self.provisional)

    @property
    def provisional_names(self) -> frozenset[str]:
        """The provisional milestones by name, as keyed in :meth:`as_dict`."""
        return frozenset(m.value for m in self.provisional)

    def as_dict(self) -> dict[str, datetime]:
        """The milestones that have a due instant, in order, keyed by milestone name."""
        return {name: due for name, due in self.listed().items() if due is not None}

    def listed(self) -> dict[str, datetime | None]:
        """Every milestone that applies, in order, keyed by milestone name: its due instant,
        or None while an open pause stops its clock (:attr:`stopped`)."""
        stopped = {m.value for m in self.stopped}
        found = {
            Milestone.RESPOND.value: self.respond,
            Milestone.DIAGNOSE.value: self.diagnose,
            Milestone.PLAN.value: self.plan,
            Milestone.RESOLVE.value: self.resolve,
        }
        return {name: due for name, due in found.items() if due is not None or name in stopped}


def met_in_time(met: datetime, due: datetime | None) -> bool:
    """Whether a milestone met at ``met`` was met in time; ``due`` None: its clock is stopped
    by a pause, so its deadline lies after the pause, later than anything met up to now."""
    return due is None or met <= due


def _merge(pauses: Sequence[Pause]) -> list[tuple[datetime, datetime | None]]:
    """Pauses sorted by start, overlapping ones joined; an open pause swallows the rest."""
    # In UTC: two local times of one zone compare by wall clock, wrong in a DST fold.
    spans = [(p.start.astimezone(UTC), p.end and p.end.astimezone(UTC)) for p in pauses]
    merged: list[tuple[datetime, datetime | None]] = []
    for start, end in sorted(spans, key=lambda span: span[0]):
        if end is not None and end <= start:
            continue
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last_start, last_end = merged[-1]
            merged[-1] = (
                last_start,
                None if last_end is None or end is None else max(last_end, end),
            )
        else:
            merged.append((start, end))
    return merged


def _due(
    clock: SlaClock,
    anchor: datetime,
    duration: Duration,
    pauses: Sequence[tuple[datetime, datetime | None]],
) -> tuple[datetime | None, datetime]:
    """When ``duration`` of clock time has run since ``anchor``, not counting the pauses
    (None if an open pause stops the clock before then), and the latest instant the answer
    looked at (the due instant, or the end of a pause counted that ends after it)."""
    return _run(clock, anchor, duration.resolve(clock.day_length), pauses)


def _run(
    clock: SlaClock,
    anchor: datetime,
    amount: timedelta,
    pauses: Sequence[tuple[datetime, datetime | None]],
) -> tuple[datetime | None, datetime]:
    """:func:`_due` for an ``amount`` of clock time."""
    due = clock.add(anchor, amount)
    reach = due
    for start, end in pauses:
        if start >= due:
            break
        if end is not None and end <= anchor:
            continue
        if end is None:
            return None, reach
        due = clock.add(due, clock.between(max(start, anchor), end))
        reach = max(reach, due, end)
    return due, reach


def counted_between(
    clock: SlaClock, start: datetime, end: datetime, pauses: Sequence[Pause]
) -> timedelta:
    """The clock time from ``start`` to ``end`` that counts: the waits left out (an open
    one counts as lasting past ``end``)."""
    total = clock.between(start, end)
    for pause_start, pause_end in _merge(pauses):
        low, high = max(pause_start, start), end if pause_end is None else min(pause_end, end)
        if low < high:
            total -= clock.between(low, high)
    return max(total, timedelta(0))


def counted_until(
    clock: SlaClock, start: datetime, amount: timedelta, pauses: Sequence[Pause]
) -> datetime | None:
    """When ``amount`` of clock time has counted since ``start``, the waits left out (None
    while an open wait stops the clock before then): as a deadline is worked out."""
    return _run(clock, start, amount, _merge(pauses))[0]


def resolve_due(clock: SlaClock, fix_date: date, *, working: bool) -> datetime:
    """The resolve deadline for an agreed fix date.

    On a working-time clock (C, D): the end of the last working span of that date in the
    calendar's timezone or, if that date is no working day, of the working day before
    it (no working time is lost either way). On the 24x7 clock (A, B): the end of that
    local day, i.e. midnight at the start of the next day. Waiting for the customer does
    not move an agreed date.
    """
    if working and isinstance(clock, WorkCalendar):
        return clock.closing(fix_date)
    if fix_date.year == MAXYEAR and (fix_date.month, fix_date.day) == (12, 31):
        raise CalendarRangeError(MAXYEAR + 1)
    midnight = datetime.combine(fix_date + timedelta(days=1), time(), tzinfo=clock.tz)
    return midnight.astimezone(UTC).astimezone(clock.tz)


def compute_deadlines(
    *,
    policy: Policy,
    calendar: WorkCalendar,
    severity: Severity,
    reported_at: datetime,
    in_warranty: bool,
    respond_from: datetime | None = None,
    cause_at: datetime | None = None,
    pauses: Sequence[Pause] = (),
    fix_date: date | None = None,
) -> Deadlines:
    """Every milestone's due instant for one ticket, in the calendar's timezone.

    - respond counts from ``respond_from`` (a reopen: SPEC §4) or else the report;
      diagnose counts from the report; the plan counts from the report (C and
      D out of warranty) or from the cause: ``cause_at`` once identified, the diagnose
      deadline until then.
    - ``pauses`` (waiting for the customer) extend only the clocks of classes whose
      terms are pausable (C and D); A and B never pause.
    - ``fix_date`` adds the resolve milestone (see :func:`resolve_due`).

    A milestone is provisional when the working time from the report to its due instant
    crosses a year whose holidays are estimated. Raises
    :class:`~bot.sla.calendar.CalendarRangeError` only for an instant outside the years
    1 to 9999.
    """
    terms = policy.terms(Severity(severity), in_warranty=in_warranty)
    working = terms.clock is ClockKind.WORKING
    clock: SlaClock = calendar if working else calendar.elapsed
    merged = _merge(pauses) if terms.pausable else []
    stopped: list[Milestone] = []
    spans: list[tuple[Milestone, datetime, datetime]] = []  # what each due instant looked at

    def depends(milestone: Milestone, first: datetime, last: datetime) -> None:
        spans.append((milestone, first, last))

    def due(milestone: Milestone, anchor: datetime | None, duration: Duration) -> datetime | None:
        if anchor is None:
            stopped.append(milestone)
            return None
        result, reach = _due(clock, anchor, duration, merged)
        if result is None:
            stopped.append(milestone)
        else:
            depends(milestone, reported_at, reach)
        return result

    respond = due(Milestone.RESPOND, respond_from or reported_at, terms.respond)
    diagnose = None
    if terms.diagnose is not None:
        diagnose = due(Milestone.DIAGNOSE, reported_at, terms.diagnose)
    if terms.plan_after is Anchor.REPORT:
        plan_anchor: datetime | None = reported_at
    else:
        plan_anchor = cause_at if cause_at is not None else diagnose
    plan = due(Milestone.PLAN, plan_anchor, terms.plan)
    resolve = None
    if fix_date is not None:
        resolve = resolve_due(clock, fix_date, working=working)
        # The closing of the fix date, or of the last working day before it.
        fix_day_end = datetime.combine(fix_date, time.max, tzinfo=clock.tz)
        depends(Milestone.RESOLVE, resolve, max(resolve, fix_day_end))
    provisional: list[Milestone] = []
    estimated: set[int] = set()
    first = min((span[1] for span in spans), default=reported_at)
    last = max((span[2] for span in spans), default=reported_at)
    if clock.estimated_years(first, last):  # else (nearly always) none is provisional
        for milestone, a, b in spans:
            if years := clock.estimated_years(a, b):
                provisional.append(milestone)
                estimated.update(years)
    return Deadlines(
        respond=respond,
        diagnose=diagnose,
        plan=plan,
        resolve=resolve,
        stopped=tuple(stopped),
        provisional=tuple(provisional),
        estimated_years=tuple(sorted(estimated)),
    )


def parse_local_time(text: str, calendar: WorkCalendar) -> datetime:
    """An ISO 8601 time, local to the calendar's timezone unless it carries an offset."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise UserError(
            "%(text)s is not an ISO 8601 time; write it like 2026-09-30T16:00", text=repr(text)
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=calendar.tz)
    return parsed


def deadlines_json(
    *,
    policy: Policy,
    calendar: WorkCalendar,
    severity: Severity | str,
    reported_local: str,
    out_of_warranty: bool,
) -> dict[str, str | bool]:
    """``escalator deadlines``: each applicable milestone's due time as ISO 8601 with
    offset, in the calendar's timezone, e.g. ``{"respond": "2026-10-08T11:00:00+08:00"}``,
    and ``"provisional": true`` when one of them depends on estimated holidays (a year
    without an official plan in the installed data). A bad time or class, or a time
    outside the years 1 to 9999, raises :class:`UserError`."""
    try:
        chosen = Severity(str(severity).strip().upper())
    except ValueError:
        raise UserError(
            "%(severity)s is not a class; use A, B, C or D", severity=repr(severity)
        ) from None
    reported_at = parse_local_time(reported_local, calendar)
    try:
        deadlines = compute_deadlines(
            policy=policy,
            calendar=calendar,
            severity=chosen,
            reported_at=reported_at,
            in_warranty=not out_of_warranty,
        )
    except (CalendarRangeError, OverflowError):
        if reported_at.year < (MINYEAR + MAXYEAR) // 2:  # before the year 1, in UTC
            raise UserError(
                "%(time)s is too close to the start of the calendar (the year %(year)s) "
                "for its deadlines",
                time=repr(reported_local),
                year=MINYEAR,
            ) from None
        raise UserError(
            "%(time)s is too close to the end of the calendar (the year %(year)s) "
            "for its deadlines",
            time=repr(reported_local),
            year=MAXYEAR,
        ) from None
    found: dict[str, str | bool] = {
        name: due.astimezone(calendar.tz).isoformat() for name, due in deadlines.as_dict().items()
    }
    if deadlines.is_provisional:
        found["provisional"] = True
    return found
