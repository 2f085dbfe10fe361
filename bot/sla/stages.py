"""Which reminder and escalation stages a ticket arms (SPEC §5), and who each one reaches.

Pure: the ticket, its deadlines, its class's terms, the calendar and ``now`` come in as
arguments. A stage has a stable key, ``"<milestone>:<kind>[:<n>]"`` (``"respond:reminder:50"``,
``"diagnose:page:managers"``, ``"plan:breach"``, ``"plan:repeat:3"``), so a stage that has
fired once is known by its key and never armed again.

- Reminders go to the ticket's thread: A and B at 50, 75 and 90 % of each running
  milestone; C and D at 75 %, moved to the next opening when that point is outside working
  time. The percent is of the time that counts: a wait for the customer (C, D) is not.
- A and B escalate: the on-call primary at report, the secondary when the respond target
  passes unacknowledged, every manager at 75 % (A) or 90 % (B) of diagnose or plan, a breach
  notice at the deadline, and manager pages again every 30 min (A) or 2 h (B) until met.
- Every running milestone marks its deadline with a stage, so the ticket's card is shown
  again, overdue (:func:`shows_deadline`): the secondary's page (respond, A and B), the
  breach notice (diagnose and plan, A and B), else an ``overdue`` stage that sends nothing
  but the card.
- Reopening starts the respond milestone again from the reopen: its stages are armed
  again, keyed by the round (``"respond:page:primary@1"``), so the primary of an A or B
  ticket is paged again as at a report.
- Reclassifying recomputes the deadlines: a stage due after a reclassification is of the
  new class and keyed by how many reclassifications came before it (``"plan:breach/1"``), so
  it is sent even where the old class sent its namesake; one due before it keeps its key, so
  what the old class sent then is not sent again.
- A milestone that is met (respond: acknowledged; diagnose: cause; plan: plan; resolve:
  resolved) arms nothing more; a resolved or closed ticket arms nothing at all.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.sla.calendar import SlaClock, WorkCalendar
from bot.sla.deadlines import Deadlines, Pause, counted_between, counted_until
from bot.sla.policy import SIGNOFF_WAIT_DAYS, Anchor, ClockKind, Milestone, Severity, Terms

ELAPSED_REMINDERS = (50, 75, 90)
WORKING_REMINDERS = (75,)
ESCALATING = (Severity.A, Severity.B)
MANAGER_PAGE_PERCENT = {Severity.A: 75, Severity.B: 90}
REPEAT_EVERY = {Severity.A: timedelta(minutes=30), Severity.B: timedelta(hours=2)}
_MANAGER_MILESTONES = (Milestone.DIAGNOSE, Milestone.PLAN)


class Progress(Protocol):
    """What the stage rules read of a ticket (:class:`bot.domain.tickets.Ticket` has it)."""

    @property
    def severity(self) -> Severity: ...
    @property
    def reported_at(self) -> datetime: ...
    @property
    def respond_from(self) -> datetime: ...
    @property
    def reopens(self) -> int: ...
    @property
    def acknowledged_at(self) -> datetime | None: ...
    @property
    def cause_at(self) -> datetime | None: ...
    @property
    def plan_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def pauses(self) -> tuple[Pause, ...]: ...
    @property
    def reclassified_at(self) -> list[datetime]: ...


class StageKind(StrEnum):
    REMINDER = "reminder"
    PAGE_PRIMARY = "page:primary"
    PAGE_SECONDARY = "page:secondary"
    PAGE_MANAGERS = "page:managers"
    BREACH = "breach"
    REPEAT = "repeat"
    AUTOCLOSE = "autoclose"  # no answer to "Is it fixed?": the ticket closes by itself
    OVERDUE = "overdue"  # a deadline passed with no other stage to mark it: the card only


# The stages that mark a milestone's deadline: when one is handled (sent, or superseded by
# a later one in a catch-up), the ticket's card is shown again, overdue.
DEADLINE_KINDS = frozenset({StageKind.PAGE_SECONDARY, StageKind.BREACH, StageKind.OVERDUE})


# The stages that send no message of their own (the card is shown again, overdue).
SILENT_KINDS = frozenset({StageKind.OVERDUE})


class StageOutcome(StrEnum):
    """How a stage that is no longer pending ended."""

    SENT = "sent"  # its notices were owed to Slack
    SUPERSEDED = "superseded"  # a later stage of its milestone fell due with it: not sent
    ERROR = "error"  # firing it failed; set aside so it is not tried forever


_NUMBERED = (StageKind.REMINDER, StageKind.REPEAT)
_RANK = {kind: rank for rank, kind in enumerate(StageKind)}
# A stage key's text before its number, by milestone and kind (worked out once: a step
# makes about twenty stages per ticket, and an enum's ``.value`` is a descriptor call).
_KEY_BASE = {(m, k): f"{m.value}:{k.value}" for m in Milestone for k in StageKind}


@dataclass(frozen=True)
class Stage:
    milestone: Milestone
    kind: StageKind
    due: datetime
    number: int = 0  # the percent of a reminder, the count of a repeat
    round: int = 0  # respond after the n-th reopen; 0 for everything else
    recount: int = 0  # the reclassifications before it fell due (its class's turn)
    key: str = field(init=False, repr=False, compare=False)  # worked out once: asked often

    def __post_init__(self) -> None:
        base = _KEY_BASE[self.milestone, self.kind]
        key = f"{base}:{self.number}" if self.kind in _NUMBERED else base
        key = f"{key}@{self.round}" if self.round else key
        object.__setattr__(self, "key", f"{key}/{self.recount}" if self.recount else key)


def shows_deadline(stages: Iterable[Stage]) -> bool:
    """Whether handling these stages passes a deadline: the ticket's card must be shown
    again (overdue, not time left)."""
    return any(stage.kind in DEADLINE_KINDS for stage in stages)


def parse_key(key: str) -> tuple[Milestone, StageKind, int]:
    """The milestone, kind and number of a stage key, its rounds aside (raises ValueError on
    a bad key)."""
    key, _, recount = key.partition("/")
    if recount and not recount.isdigit():
        raise ValueError(f"bad reclassification count in stage key {key!r}")
    key, _, round_ = key.partition("@")
    if round_ and not round_.isdigit():
        raise ValueError(f"bad round in stage key {key!r}")
    milestone, rest = key.split(":", 1)
    for kind in _NUMBERED:
        prefix = f"{kind.value}:"
        if rest.startswith(prefix):
            return Milestone(milestone), kind, int(rest[len(prefix) :])
    return Milestone(milestone), StageKind(rest), 0


def clock_for(terms: Terms, calendar: WorkCalendar) -> SlaClock:
    return calendar if terms.clock is ClockKind.WORKING else calendar.elapsed


@dataclass(frozen=True)
class Window:
    """A running milestone: counting from ``start``, due at ``due``, its clock stopped by
    ``pauses`` (the waits for the customer of a class whose clock they pause)."""

    milestone: Milestone
    start: datetime
    due: datetime
    round: int = 0
    pauses: tuple[Pause, ...] = ()


def clocks_stopped(ticket: Progress) -> bool:
    """Whether no milestone runs any more: the ticket is resolved or closed (one it never
    met stays not met)."""
    return ticket.resolved_at is not None or ticket.closed_at is not None


def met_at(ticket: Progress, milestone: Milestone) -> datetime | None:
    """When the milestone was met (None while it runs)."""
    return {
        Milestone.RESPOND: ticket.acknowledged_at,
        Milestone.DIAGNOSE: ticket.cause_at,
        Milestone.PLAN: ticket.plan_at,
        Milestone.RESOLVE: ticket.resolved_at,
    }[milestone]


def is_reminder(key: str) -> bool:
    """Whether ``key`` is a reminder's stage key."""
    try:
        return parse_key(key)[1] is StageKind.REMINDER
    except ValueError:
        return False


def reminder_outdated(ticket: Progress, key: str) -> bool:
    """Whether the stage of ``key`` is a reminder that asks for a step taken since it fell
    due (its milestone met, or the ticket resolved or closed): sent late, after Slack was
    away, it would ask for what is done. Other stages are not (a page says it is settled)."""
    if not is_reminder(key):
        return False
    milestone = parse_key(key)[0]
    return clocks_stopped(ticket) or met_at(ticket, milestone) is not None


def running_windows(ticket: Progress, deadlines: Deadlines, terms: Terms) -> list[Window]:
    """The milestones still to be met, with the stretch of time each one runs over."""
    if clocks_stopped(ticket):
        return []
    waits = ticket.pauses if terms.pausable else ()
    windows: list[Window] = []
    if ticket.acknowledged_at is None and deadlines.respond is not None:
        windows.append(
            Window(Milestone.RESPOND, ticket.respond_from, deadlines.respond, ticket.reopens, waits)
        )
    if ticket.cause_at is None and deadlines.diagnose is not None:
        windows.append(
            Window(Milestone.DIAGNOSE, ticket.reported_at, deadlines.diagnose, pauses=waits)
        )
    if ticket.plan_at is None and deadlines.plan is not None:
        start = ticket.reported_at
        if terms.plan_after is Anchor.CAUSE:
            start = ticket.cause_at or deadlines.diagnose or ticket.reported_at
        windows.append(Window(Milestone.PLAN, start, deadlines.plan, pauses=waits))
    if deadlines.resolve is not None:
        start = ticket.plan_at or ticket.reported_at
        windows.append(Window(Milestone.RESOLVE, start, deadlines.resolve))
    return windows


def point(clock: SlaClock, window: Window, percent: int, span: timedelta | None = None) -> datetime:
    """The instant ``percent`` of the window's clock time has run, inside clock time; the
    waits for the customer do not count (a reminder says how much of the time is gone).
    ``span``: the window's clock time (:func:`window_span`), when the caller has it already."""
    if window.due <= window.start:
        return window.due
    if span is None:
        span = window_span(clock, window)
    if window.pauses:
        at = counted_until(clock, window.start, span * percent / 100, window.pauses) or window.due
    else:
        at = clock.add(window.start, span * percent / 100)
    return at if clock.is_working(at) else clock.next_opening(at)


def window_span(clock: SlaClock, window: Window) -> timedelta:
    """The clock time the window's milestone has, its waits left out."""
    if window.pauses:
        return counted_between(clock, window.start, window.due, window.pauses)
    return clock.between(window.start, window.due)


def ticket_stages(
    *,
    ticket: Progress,
    deadlines: Deadlines,
    terms: Terms,
    calendar: WorkCalendar,
    now: datetime,
) -> list[Stage]:
    """Every stage the ticket has at ``now``, fired or not, in order of due instant.

    Repeats are unbounded, so only two are listed per milestone: the latest one due by
    ``now`` (if any) and the one after it.
    """
    clock = clock_for(terms, calendar)
    working = terms.clock is ClockKind.WORKING
    severity = Severity(ticket.severity)
    escalates = severity in ESCALATING
    stages: list[Stage] = []
    for window in running_windows(ticket, deadlines, terms):
        milestone, round_ = window.milestone, window.round
        span = window_span(clock, window) if window.due > window.start else None
        for percent in WORKING_REMINDERS if working else ELAPSED_REMINDERS:
            at = point(clock, window, percent, span)
            stages.append(Stage(milestone, StageKind.REMINDER, at, percent, round_))
        if escalates and milestone is Milestone.RESPOND:
            stages.append(Stage(milestone, StageKind.PAGE_PRIMARY, window.start, round=round_))
            stages.append(Stage(milestone, StageKind.PAGE_SECONDARY, window.due, round=round_))
        elif escalates and milestone in _MANAGER_MILESTONES:
            percent = MANAGER_PAGE_PERCENT[severity]
            at = point(clock, window, percent, span)
            stages.append(Stage(milestone, StageKind.PAGE_MANAGERS, at))
            stages.append(Stage(milestone, StageKind.BREACH, window.due))
            stages.extend(_repeats(milestone, window.due, REPEAT_EVERY[severity], now))
        else:
            stages.append(Stage(milestone, StageKind.OVERDUE, window.due, round=round_))
    if ticket.resolved_at is not None and ticket.closed_at is None:  # awaiting sign-off
        wait = SIGNOFF_WAIT_DAYS * calendar.day_length
        stages.append(
            Stage(Milestone.RESOLVE, StageKind.AUTOCLOSE, calendar.add(ticket.resolved_at, wait))
        )
    if reclassified := ticket.reclassified_at:
        stages = _of_class_turns(stages, reclassified)
    return sorted(stages, key=order)


def _of_class_turns(stages: list[Stage], reclassified: list[datetime]) -> list[Stage]:
    """The stages keyed by the reclassifications before each one's due instant (a stage due
    at a reclassification is the old class's)."""
    turns = sorted(at.astimezone(UTC) for at in reclassified)
    return [
        replace(stage, recount=n) if (n := bisect_left(turns, stage.due.astimezone(UTC))) else stage
        for stage in stages
    ]


def _repeats(milestone: Milestone, due: datetime, every: timedelta, now: datetime) -> list[Stage]:
    """The pages repeated after a breach, ``every`` apart in real time (in UTC: in the
    workspace's zone, Python would add and subtract by the wall clock, off by a DST change)."""
    start = due.astimezone(UTC)
    done = max(0, (now.astimezone(UTC) - start) // every) if now >= due else 0
    numbers = [done, done + 1] if done else [1]
    return [
        Stage(milestone, StageKind.REPEAT, (start + n * every).astimezone(due.tzinfo), n)
        for n in numbers
    ]


def order(stage: Stage) -> tuple[datetime, int, str]:
    return stage.due, _RANK[stage.kind], stage.milestone  # a StrEnum: compares as its value


def fired_keys(
    fired: Iterable[tuple[str, datetime]], reclassified: Sequence[datetime] = ()
) -> set[str]:
    """The keys of the fired stages, given each one's key and due instant. A ticket
    reclassified before stages were keyed by its reclassifications has stages stored by
    their names only: one due after a reclassification also stands for its keyed name, so
    it is not sent again."""
    keys: set[str] = set()
    turns = sorted(at.astimezone(UTC) for at in reclassified)
    for key, due in fired:
        keys.add(key)
        if turns and "/" not in key and (n := bisect_left(turns, due.astimezone(UTC))):
            keys.add(f"{key}/{n}")
    return keys


def unfired(stages: Iterable[Stage], fired: Collection[str]) -> list[Stage]:
    return [stage for stage in stages if stage.key not in fired]


def next_stage(stages: Iterable[Stage], *, after: datetime | None = None) -> list[Stage]:
    """The one stage to keep armed (as a list of at most one): the earliest, or the earliest
    due after ``after``. Only the next stage is stored; when it fires, the engine works out
    from the rules what else is due and arms the next one (schedule the next step only)."""
    for stage in sorted(stages, key=order):
        if after is None or stage.due > after:
            return [stage]
    return []


def catch_up(due: Sequence[Stage]) -> tuple[list[Stage], list[Stage]]:
    """Split stages that are due at once into (send, superseded).

    Per milestone only the latest stages are sent: after a restart one notice per ticket and
    milestone, not the whole backlog. Stages due at the same instant (a 75 % reminder and the
    managers' page of class A) are one step and are all sent. Where the latest only marks the
    deadline (``overdue``: the card, no message), the latest message is sent with it: the
    reminder that fell due is not lost to a card.
    """
    latest: dict[Milestone, datetime] = {}
    told: dict[Milestone, datetime] = {}  # the latest that says something
    for stage in due:
        latest[stage.milestone] = max(stage.due, latest.get(stage.milestone, stage.due))
        if stage.kind not in SILENT_KINDS:
            told[stage.milestone] = max(stage.due, told.get(stage.milestone, stage.due))
    sent = {s for s in due if s.due in (latest[s.milestone], told.get(s.milestone))}
    send = [s for s in due if s in sent]
    skip = [s for s in due if s not in sent]
    return sorted(send, key=order), sorted(skip, key=order)
