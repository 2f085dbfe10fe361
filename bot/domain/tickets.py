"""Tickets: what a report must hold, and how a new ticket is opened. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from enum import StrEnum

from bot.errors import Message
from bot.sla.calendar import WorkCalendar
from bot.sla.deadlines import Deadlines, Pause, compute_deadlines
from bot.sla.policy import Policy, Severity

# Slack's limits: a header block holds 150 characters; a plain-text input holds 3000.
SUMMARY_MAX = 150
SYSTEM_MAX = 150
DETAILS_MAX = 3000


class TicketState(StrEnum):
    OPEN = "open"
    AWAITING_APPROVAL = "awaiting_approval"
    ACKNOWLEDGED = "acknowledged"
    DIAGNOSED = "diagnosed"
    PLANNED = "planned"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


# Where work on the ticket goes on: it may be acknowledged, diagnosed, planned, resolved.
ACTIVE = frozenset(
    {TicketState.OPEN, TicketState.ACKNOWLEDGED, TicketState.DIAGNOSED, TicketState.PLANNED}
)
# Keys of Ticket.extra: when the ticket was last reopened, how often, and its first
# acknowledgement (a reopen clears acknowledged_at: the respond milestone runs again).
REOPENED_AT = "reopened_at"
REOPENS = "reopens"
FIRST_ACK = "first_acknowledged_at"
# Key of Ticket.extra: the classes a reclassified ticket had before, each with when it ended
# ([["C", "2026-11-23T12:00:00+00:00"], …], oldest first): a milestone met under an earlier
# class is held to that class's deadline (SPEC §4: reclassifying recomputes open deadlines).
CLASSES_BEFORE = "classes_before"

# Not finished: listed as open, shown on the Home tab (a resolved ticket awaits sign-off).
OPEN_STATES = frozenset(TicketState) - {TicketState.CLOSED}
# The field that holds when each milestone was met, by milestone name.
MET_FIELDS = {
    "respond": "acknowledged_at",
    "diagnose": "cause_at",
    "plan": "plan_at",
    "resolve": "resolved_at",
}


@dataclass(frozen=True)
class ReportDraft:
    """What the reporter typed and answered, before it becomes a ticket."""

    summary: str
    details: str
    system: str
    severity: Severity
    reporter_id: str
    origin_channel: str | None


@dataclass(frozen=True)
class NewTicket:
    """Everything needed to store a new ticket; the number comes from storage."""

    summary: str
    details: str
    system: str
    severity: Severity
    state: TicketState
    reporter_id: str
    origin_channel: str | None
    post_channel: str
    customer: str | None
    in_warranty: bool
    reported_at: datetime

    def numbered(self, number: int) -> Ticket:
        """The ticket once stored as ``number``: nobody assigned, nothing met yet, version 1."""
        return Ticket(
            number=number,
            assignee_id=None,
            acknowledged_at=None,
            cause_at=None,
            plan_at=None,
            resolved_at=None,
            closed_at=None,
            version=1,
            **{name: getattr(self, name) for name in _NEW_FIELDS},
        )


_NEW_FIELDS = tuple(f.name for f in fields(NewTicket))

_FIELD_WORDS = {
    "summary": Message("the summary"),
    "details": Message("what happened"),
    "system": Message("the affected system"),
}


def report_errors(*, summary: str, details: str, system: str) -> dict[str, Message]:
    """Per-field problems with a report (empty when it is fine). Keys: summary, details, system.
    The limits count what the ticket keeps: the text without the spaces around it."""
    errors: dict[str, Message] = {}
    for name, value, limit, required in (
        ("summary", summary.strip(), SUMMARY_MAX, True),
        ("details", details.strip(), DETAILS_MAX, True),
        ("system", system.strip(), SYSTEM_MAX, False),
    ):
        what = _FIELD_WORDS[name]
        if required and not value:
            errors[name] = Message("Please fill in %(field)s.", field=what)
        elif len(value) > limit:
            errors[name] = Message(
                "Keep %(field)s to %(limit)s characters (it has %(n)s).",
                field=what,
                limit=limit,
                n=len(value),
            )
    return errors


def in_warranty(warranty_until: date | None, reported_on: date) -> bool:
    """A ticket is in warranty until the customer's warranty_until, inclusive; no date: in."""
    return warranty_until is None or reported_on <= warranty_until


def open_ticket(
    draft: ReportDraft,
    *,
    reported_at: datetime,
    reported_on: date,
    support_channel: str,
    customer: str | None,
    customer_channel: str | None,
    warranty_until: date | None,
    policy: Policy,
) -> NewTicket:
    """Decide where a new ticket is posted, whether it is in warranty, and its first state.

    ``reported_on`` is the local date of the report in the configured timezone.
    A report from a customer's channel is posted there; others go to the support channel.
    A report whose terms need acceptance (C and D out of warranty, by the built-in policy)
    first waits for a manager to accept it.
    """
    warranty = in_warranty(warranty_until, reported_on)
    needs_approval = policy.terms(draft.severity, in_warranty=warranty).needs_acceptance
    return NewTicket(
        summary=draft.summary.strip(),
        details=draft.details.strip(),
        system=draft.system.strip(),
        severity=draft.severity,
        state=TicketState.AWAITING_APPROVAL if needs_approval else TicketState.OPEN,
        reporter_id=draft.reporter_id,
        origin_channel=draft.origin_channel,
        post_channel=customer_channel or support_channel,
        customer=customer,
        in_warranty=warranty,
        reported_at=reported_at,
    )


@dataclass(frozen=True)
class Ticket:
    """A stored ticket, as the rest of the bot sees it."""

    number: int
    summary: str
    details: str
    system: str
    severity: Severity
    state: TicketState
    reporter_id: str
    origin_channel: str | None
    post_channel: str
    customer: str | None
    in_warranty: bool
    assignee_id: str | None
    reported_at: datetime
    acknowledged_at: datetime | None
    cause_at: datetime | None
    plan_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int
    fix_date: date | None = None
    pauses: tuple[Pause, ...] = ()
    cause: str = ""
    plan: str = ""
    resolution: str = ""
    rating: int | None = None
    rating_comment: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """How a ticket is written to users: ``#42``."""
        return ref_of(self.number)

    def met_at(self) -> dict[str, datetime | None]:
        """When each milestone was met, by name (None while it runs). After a reopen,
        respond is the acknowledgement of the new round."""
        return {milestone: getattr(self, name) for milestone, name in MET_FIELDS.items()}

    @property
    def reopened_at(self) -> datetime | None:
        raw = self.extra.get(REOPENED_AT)
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None

    @property
    def reopens(self) -> int:
        """How many times the ticket was reopened: the round of its respond milestone."""
        raw = self.extra.get(REOPENS)
        if isinstance(raw, int):
            return raw
        return 1 if self.reopened_at is not None else 0  # reopened before the count was kept

    @property
    def respond_from(self) -> datetime:
        """Where the respond milestone counts from: the report, or the latest reopen."""
        return self.reopened_at or self.reported_at

    @property
    def classes_before(self) -> list[tuple[Severity, datetime]]:
        """The classes the ticket had before its reclassifications, each with when it ended."""
        raw = self.extra.get(CLASSES_BEFORE)
        found: list[tuple[Severity, datetime]] = []
        for entry in raw if isinstance(raw, list) else []:
            if isinstance(entry, list) and len(entry) == 2:
                found.append((Severity(entry[0]), datetime.fromisoformat(str(entry[1]))))
        return found

    @property
    def reclassified_at(self) -> list[datetime]:
        """When the ticket was reclassified, oldest first."""
        return [until for _, until in self.classes_before]

    def severity_at(self, when: datetime) -> Severity:
        """The class the ticket had at ``when``."""
        for severity, until in self.classes_before:
            if when < until:
                return severity
        return self.severity

    @property
    def first_acknowledged_at(self) -> datetime | None:
        """The first acknowledgement the ticket ever had (a reopen does not erase it)."""
        raw = self.extra.get(FIRST_ACK)
        return datetime.fromisoformat(raw) if isinstance(raw, str) else self.acknowledged_at


def deadlines_of(
    ticket: Ticket, *, policy: Policy, calendar: WorkCalendar, as_promised: bool = False
) -> Deadlines:
    """Every milestone's deadline for the ticket as it stands: respond counts from the
    latest reopen (SPEC §4). ``as_promised``: respond as first promised, from the report
    (what the month's figures hold the first acknowledgement to, see :func:`kept`).
    Says which deadlines depend on estimated holidays (raises CalendarRangeError only
    beyond the year 9999)."""
    return compute_deadlines(
        policy=policy,
        calendar=calendar,
        severity=ticket.severity,
        reported_at=ticket.reported_at,
        respond_from=None if as_promised else ticket.reopened_at,
        in_warranty=ticket.in_warranty,
        cause_at=ticket.cause_at,
        pauses=ticket.pauses,
        fix_date=ticket.fix_date,
    )


def ref_of(number: int) -> str:
    """How ticket ``number`` is written to users: ``#42``."""
    return f"#{number}"


def review_met_at(ticket: Ticket) -> dict[str, datetime | None]:
    """When each milestone was met, as the month's figures count it: respond by the first
    acknowledgement (:func:`kept`)."""
    return {**ticket.met_at(), "respond": ticket.first_acknowledged_at}


def _pauses_until(pauses: tuple[Pause, ...], until: datetime) -> tuple[Pause, ...]:
    """The waits as they stood at ``until``: later ones left out, one still open then ended."""
    return tuple(
        Pause(p.start, until if p.end is None or p.end > until else p.end)
        for p in pauses
        if p.start < until
    )


def promised_deadlines(
    ticket: Ticket, deadlines: Deadlines, *, policy: Policy, calendar: WorkCalendar
) -> Deadlines:
    """What the month's figures hold the ticket to: ``deadlines`` as they stand, but
    respond as first promised (:func:`kept`); the same unless the ticket was reopened.

    A milestone met before a wait that still goes on, or before the ticket was reclassified,
    is held to its deadline as it stood when it was met (a wait or a new class after it does
    not take back a promise kept, nor break one); its clock is not stopped for the figures.
    A milestone never met whose deadline came after the work on the ticket ended (resolved,
    or closed: also a declined request) was owed no longer: it has no deadline for the
    figures (one that passed before stays a miss)."""
    promised = deadlines
    if ticket.reopened_at is not None:
        promised = deadlines_of(ticket, policy=policy, calendar=calendar, as_promised=True)
    met = review_met_at(ticket)
    settled: dict[str, datetime | None] = {}
    ended = min((t for t in (ticket.resolved_at, ticket.closed_at) if t is not None), default=None)
    if ended is not None:
        for name, due in promised.as_dict().items():
            if met.get(name) is None and due > ended:
                settled[name] = None
    stopped = {m.value for m in promised.stopped}
    for name, when in met.items():
        if when is None or name in settled:
            continue
        severity = ticket.severity_at(when)
        if name not in stopped and severity is ticket.severity:
            continue
        then = replace(ticket, severity=severity, pauses=_pauses_until(ticket.pauses, when))
        found = deadlines_of(then, policy=policy, calendar=calendar, as_promised=True)
        settled[name] = getattr(found, name)
    if not settled:
        return promised
    return Deadlines(
        respond=settled.get("respond", promised.respond),
        diagnose=settled.get("diagnose", promised.diagnose),
        plan=settled.get("plan", promised.plan),
        resolve=settled.get("resolve", promised.resolve),
        stopped=tuple(m for m in promised.stopped if m.value not in settled),
        provisional=promised.provisional,
        estimated_years=promised.estimated_years,
    )


NextDue = tuple[str, datetime]  # a milestone by name, and when it is due


def next_due(ticket: Ticket, deadlines: Deadlines | None) -> NextDue | None:
    """The earliest deadline, as it stands, of a milestone not met yet (none once resolved
    or closed, while waiting, or when the deadlines are not known): what ``/ticket list``
    and the Home tab order by and show."""
    if deadlines is None or (
        ticket.state not in ACTIVE and ticket.state is not TicketState.AWAITING_APPROVAL
    ):
        return None
    met = ticket.met_at()
    pending = {name: due for name, due in deadlines.as_dict().items() if met.get(name) is None}
    if not pending:
        return None
    name = min(pending, key=lambda n: pending[n])
    return name, pending[name]


@dataclass(frozen=True)
class Promise:
    """What is stored of a ticket's deadlines (``storage.review.deadline_values``): the
    deadlines as promised, for the month's review (:func:`promised_deadlines`), and the next
    one due as they stand, for the lists (:func:`next_due`)."""

    deadlines: Deadlines | None
    next_due: NextDue | None


def promise(
    ticket: Ticket, deadlines: Deadlines | None, *, policy: Policy, calendar: WorkCalendar
) -> Promise:
    """The :class:`Promise` of a ticket whose deadlines as they stand are ``deadlines`` (None:
    not known, an instant beyond the calendar's years)."""
    if deadlines is None:
        return Promise(None, None)
    promised = promised_deadlines(ticket, deadlines, policy=policy, calendar=calendar)
    return Promise(promised, next_due(ticket, deadlines))


def kept(ticket: Ticket, promised: Deadlines, now: datetime) -> dict[str, bool]:
    """The month's figures: each milestone that is due by ``now`` (met, or past its
    deadline) and whether it was met in time, by name.

    Respond is met in time when the ticket's *first* acknowledgement came by the respond
    deadline *first promised* (``promised``: :func:`deadlines_of` with ``as_promised``).
    A reopen starts a new respond round for the people working the ticket, but it neither
    erases a promise kept nor turns it into a miss.
    """
    met = review_met_at(ticket)
    found: dict[str, bool] = {}
    for name, due in promised.as_dict().items():
        when = met.get(name)
        if when is None and due > now:
            continue  # still running: neither met nor missed
        found[name] = when is not None and when <= due
    return found
