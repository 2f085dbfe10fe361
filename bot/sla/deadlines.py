"""The due instant of each milestone of a ticket (SPEC §4), from the policy and a calendar.

Pure: the report time, the time the cause was identified and the pauses come in as
arguments. Reclassifying a ticket is calling :func:`compute_deadlines` again with the new
severity and the same report time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

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

    ``stopped`` names the milestones that apply but have no due instant because the
    clock is stopped by an open pause (the ticket waits for the customer): their due
    instant is known again when the pause ends.
    """

    respond: datetime | None
    diagnose: datetime | None
    plan: datetime | None
    resolve: datetime | None
    stopped: tuple[Milestone, ...] = ()

    def as_dict(self) -> dict[str, datetime]:
        """The milestones that have a due instant, in order, keyed by milestone name."""
        found = {
            Milestone.RESPOND.value: self.respond,
            Milestone.DIAGNOSE.value: self.diagnose,
            Milestone.PLAN.value: self.plan,
            Milestone.RESOLVE.value: self.resolve,
        }
        return {name: due for name, due in found.items() if due is not None}


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
) -> datetime | None:
    """When ``duration`` of clock time has run since ``anchor``, not counting the pauses;
    None if an open pause stops the clock before then."""
    due = clock.add(anchor, duration.resolve(clock.day_length))
    for start, end in pauses:
        if start >= due:
            break
        if end is not None and end <= anchor:
            continue
        if end is None:
            return None
        due = clock.add(due, clock.between(max(start, anchor), end))
    return due


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

    Raises :class:`~bot.sla.calendar.CalendarRangeError` when a deadline falls in a year
    the holiday calendar does not know.
    """
    terms = policy.terms(Severity(severity), in_warranty=in_warranty)
    working = terms.clock is ClockKind.WORKING
    clock: SlaClock = calendar if working else calendar.elapsed
    merged = _merge(pauses) if terms.pausable else []
    stopped: list[Milestone] = []

    def due(milestone: Milestone, anchor: datetime | None, duration: Duration) -> datetime | None:
        result = None if anchor is None else _due(clock, anchor, duration, merged)
        if result is None:
            stopped.append(milestone)
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
    resolve = None if fix_date is None else resolve_due(clock, fix_date, working=working)
    return Deadlines(
        respond=respond, diagnose=diagnose, plan=plan, resolve=resolve, stopped=tuple(stopped)
    )


def parse_local_time(text: str, calendar: WorkCalendar) -> datetime:
    """An ISO 8601 time, local to the calendar's timezone unless it carries an offset."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise UserError(
            f"{text!r} is not an ISO 8601 time; write it like 2026-09-30T16:00"
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
) -> dict[str, str]:
    """``escalator deadlines``: each applicable milestone's due time as ISO 8601 with
    offset, in the calendar's timezone, e.g. ``{"respond": "2026-10-08T11:00:00+08:00"}``.
    A bad time or class, or a year without holiday data, raises :class:`UserError`."""
    try:
        chosen = Severity(str(severity).strip().upper())
    except ValueError:
        raise UserError(f"{severity!r} is not a class; use A, B, C or D") from None
    reported_at = parse_local_time(reported_local, calendar)
    try:
        deadlines = compute_deadlines(
            policy=policy,
            calendar=calendar,
            severity=chosen,
            reported_at=reported_at,
            in_warranty=not out_of_warranty,
        )
    except CalendarRangeError as error:
        raise UserError(str(error)) from None
    return {
        name: due.astimezone(calendar.tz).isoformat() for name, due in deadlines.as_dict().items()
    }
