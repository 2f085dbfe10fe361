"""The steps on a ticket: which fit its state, and what each one changes (who may take them:
:mod:`bot.domain.roles`).

Pure: given a ticket, a command, who asks and when, say the new ticket and the record of
the change (before and after of every field that moved), or refuse with a message.
Follows the maintenance procedure of JZB10-2008 §4.1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.record import diff
from bot.domain.roles import Actor, check_role
from bot.domain.tickets import (
    ACTIVE,
    CLASSES_BEFORE,
    FIRST_ACK,
    REOPENED_AT,
    REOPENS,
    Ticket,
    TicketState,
)
from bot.errors import Message, UserError
from bot.sla.deadlines import Pause
from bot.sla.policy import Severity


class NotAllowed(UserError):
    """The step does not fit the ticket's current state."""


class TooSoon(NotAllowed):
    """The step fits the state but was just taken (a double click): refused now, still
    offered by the messages, which outlive the moment."""


class Prompt(StrEnum):
    """A message that asks for one step and waits for it in one state of the ticket. Once the
    ticket leaves that state (the step was taken, or overtaken), every message that asked
    says so and loses its buttons."""

    SIGNOFF = "signoff"  # "Is it fixed?", to the reporter (in the thread and by DM)
    APPROVAL = "approval"  # accept or decline an out-of-warranty request, to the managers


WAITS_IN = {
    Prompt.SIGNOFF: TicketState.RESOLVED,
    Prompt.APPROVAL: TicketState.AWAITING_APPROVAL,
}


def settled(change: Change) -> list[Prompt]:
    """The prompts a change answers: the ticket left the state they wait in."""
    before = change.before.get("state")
    return [
        prompt
        for prompt, state in WAITS_IN.items()
        if before == state.value and change.ticket.state is not state
    ]


@dataclass(frozen=True)
class Step:
    """One command on one ticket. ``text`` and ``user`` and ``severity`` as the step needs."""

    verb: str
    text: str = ""
    user: str | None = None
    severity: Severity | None = None
    fix_date: date | None = None
    rating: int | None = None
    # a reclassify: whether the new class's terms ask a manager's acceptance (the policy's
    # say, given by the use case); one that asks none no longer waits for it. A reopen:
    # whether the ticket's terms ask it (a request never accepted waits for it again)
    needs_acceptance: bool | None = None
    # a plan: the local date when it is given (in the calendar's timezone, given by the use
    # case), which an agreed fix date may not be before
    today: date | None = None
    details: tuple[tuple[str, Any], ...] = ()  # kept in the ticket's record (e.g. the checklist)


@dataclass(frozen=True)
class Change:
    ticket: Ticket
    kind: str
    before: dict[str, Any]
    after: dict[str, Any]


def fits(ticket: Ticket, step: Step, now: datetime) -> bool:
    """Whether the step fits the ticket's state at ``now`` (whoever asks): what a message
    shared by many (the ticket's card) offers."""
    try:
        apply(ticket, step, actor=Actor(""), now=now, system=True)
    except TooSoon:
        return True
    except NotAllowed:
        return False
    return True


def apply(
    ticket: Ticket, step: Step, *, actor: Actor, now: datetime, system: bool = False
) -> Change:
    """The ticket after ``step`` by ``actor`` at ``now``; raises Refused or NotAllowed."""
    if not system:
        check_role(ticket, step.verb, actor)
    handler = _STEPS[step.verb]
    new = handler(ticket, step, actor, now)
    if step.details:
        new = replace(new, extra={**new.extra, **dict(step.details)})
    new = replace(new, version=ticket.version + 1)
    before, after = diff(ticket, new)
    if step.text and step.verb in _TEXT_KEPT_IN_EVENT:
        after["text"] = step.text
    return Change(ticket=new, kind=step.verb, before=before, after=after)


def _need(
    ticket: Ticket, states: frozenset[TicketState] | set[TicketState], doing: Message
) -> None:
    if ticket.state not in states:
        raise NotAllowed(
            "%(ref)s is %(state)s; it cannot be %(doing)s now.",
            ref=ticket.ref,
            state=ticket.state,
            doing=doing,
        )


def _ack(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    if t.acknowledged_at is not None and t.state in ACTIVE:
        raise NotAllowed("%(ref)s is acknowledged already.", ref=t.ref)
    _need(t, ACTIVE, Message("acknowledged"))  # a resolved or closed one says so
    return replace(
        t,
        state=TicketState.ACKNOWLEDGED,
        acknowledged_at=now,
        assignee_id=t.assignee_id or a.user_id,
    )


def _take(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    return _assign(t, replace(s, user=a.user_id), a, now)


def _assign(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    if t.state is TicketState.CLOSED:
        raise NotAllowed("%(ref)s is closed; reopen it first.", ref=t.ref)
    if s.user == t.assignee_id:
        raise NotAllowed("%(ref)s is already assigned to %(user)s.", ref=t.ref, user=f"<@{s.user}>")
    return replace(t, assignee_id=s.user)


def _met_respond(t: Ticket, a: Actor, now: datetime) -> Ticket:
    if t.acknowledged_at is None:
        return replace(t, acknowledged_at=now, assignee_id=t.assignee_id or a.user_id)
    return t


def _cause(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    if t.cause_at is not None:
        raise NotAllowed("The cause of %(ref)s is recorded already; add a note instead.", ref=t.ref)
    _need(t, ACTIVE, Message("diagnosed"))
    t = _met_respond(t, a, now)
    return replace(t, state=TicketState.DIAGNOSED, cause_at=now, cause=s.text)


# An agreed fix date lies within the next years (to the end of the fifth year from now): a
# date beyond is a typo, not an agreement, and one at the end of the calendar (9999-12-31)
# would leave the ticket without deadlines.
FIX_DATE_YEARS = 5


def _plan(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    if t.plan_at is not None:
        raise NotAllowed("%(ref)s has a plan already; add a note instead.", ref=t.ref)
    _need(t, ACTIVE, Message("planned"))
    today = s.today or now.date()
    if s.fix_date is not None and s.fix_date < today:
        raise NotAllowed(
            "The fix date %(date)s is in the past: agree a date from %(today)s on.",
            date=s.fix_date.isoformat(),
            today=today.isoformat(),
        )
    last = date(today.year + FIX_DATE_YEARS, 12, 31)
    if s.fix_date is not None and s.fix_date > last:
        raise NotAllowed(
            "The fix date %(date)s is too far ahead: agree a date by %(last)s.",
            date=s.fix_date.isoformat(),
            last=last.isoformat(),
        )
    t = _met_respond(t, a, now)
    return replace(t, state=TicketState.PLANNED, plan_at=now, plan=s.text, fix_date=s.fix_date)


def _resolve(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    _need(t, ACTIVE, Message("resolved"))
    t = _met_respond(t, a, now)
    return replace(
        t,
        state=TicketState.RESOLVED,
        resolved_at=now,
        resolution=s.text,
        pauses=_end_pause(t.pauses, now),
    )


def _wait(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    _need(t, ACTIVE, Message("put on hold"))
    if is_waiting(t):
        raise NotAllowed("%(ref)s is waiting for the customer already.", ref=t.ref)
    return replace(t, pauses=(*t.pauses, Pause(start=now)))


def _resume(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    if not is_waiting(t):
        raise NotAllowed("%(ref)s is not waiting for the customer.", ref=t.ref)
    return replace(t, pauses=_end_pause(t.pauses, now))


def _severity(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    if t.state is TicketState.CLOSED:
        raise NotAllowed("%(ref)s is closed; reopen it first.", ref=t.ref)
    if s.severity == t.severity:
        raise NotAllowed(
            "%(ref)s is class %(severity)s already.", ref=t.ref, severity=t.severity.value
        )
    assert s.severity is not None
    before = [[c.value, until.isoformat()] for c, until in t.classes_before]
    extra = {**t.extra, CLASSES_BEFORE: [*before, [t.severity.value, now.isoformat()]]}
    if t.state is TicketState.AWAITING_APPROVAL and s.needs_acceptance is False:
        return replace(t, severity=s.severity, state=TicketState.OPEN, extra=extra)
    return replace(t, severity=s.severity, extra=extra)


def _accept(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    _need(t, {TicketState.AWAITING_APPROVAL}, Message("accepted"))
    return replace(t, state=TicketState.OPEN, extra={**t.extra, "approval": "accepted"})


def _decline(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    _need(t, {TicketState.AWAITING_APPROVAL}, Message("declined"))
    return replace(
        t,
        state=TicketState.CLOSED,
        closed_at=now,
        extra={**t.extra, "approval": "declined", "declined_reason": s.text},
    )


def _note(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    return t


def _close(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    if t.state is TicketState.CLOSED:
        raise NotAllowed("%(ref)s is closed already.", ref=t.ref)
    return replace(t, state=TicketState.CLOSED, closed_at=now, pauses=_end_pause(t.pauses, now))


def _reopen(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    """Open again: the respond milestone starts again from ``now`` (SPEC §4), counted as the
    ticket's next round; the first acknowledgement is kept for the month's figures. An
    out-of-warranty request no manager accepted (declined, or closed before a decision)
    waits for one again: reopened, it is not open for work without being accepted."""
    _need(t, {TicketState.RESOLVED, TicketState.CLOSED}, Message("reopened"))
    extra: dict[str, object] = {
        **t.extra,
        REOPENED_AT: now.isoformat(),
        REOPENS: t.reopens + 1,
    }
    if t.acknowledged_at is not None and FIRST_ACK not in extra:
        extra[FIRST_ACK] = t.acknowledged_at.isoformat()
    waits = s.needs_acceptance and t.extra.get("approval") != "accepted"
    return replace(
        t,
        state=TicketState.AWAITING_APPROVAL if waits else TicketState.OPEN,
        acknowledged_at=None,
        resolved_at=None,
        closed_at=None,
        extra=extra,
    )


# How long after an escalation the managers are not paged again for the same ticket: a
# double click, or a second person pressing Escalate on the same page, pages them once.
ESCALATED_RECENTLY = timedelta(minutes=10)


def _escalate(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    _need(t, ACTIVE, Message("escalated"))
    before = t.extra.get("escalated_at")
    if before and now - datetime.fromisoformat(str(before)) < ESCALATED_RECENTLY:
        raise TooSoon("%(ref)s was escalated a moment ago; the managers have it.", ref=t.ref)
    return replace(t, extra={**t.extra, "escalated_at": now.isoformat()})


def _confirm(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    _need(t, {TicketState.RESOLVED}, Message("confirmed"))
    if s.rating is None or not 1 <= s.rating <= 5:
        raise NotAllowed("The rating is a number from 1 to 5.")
    return replace(
        t, state=TicketState.CLOSED, closed_at=now, rating=s.rating, rating_comment=s.text
    )


def _reject(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    """ "No, not yet" answers the sign-off of a resolved ticket, and nothing else: an old
    sign-off message must not reopen a closed ticket (the reporter uses /ticket reopen)."""
    if t.state is TicketState.CLOSED:
        raise NotAllowed(
            "%(ref)s is closed: this sign-off was answered already. "
            "To open it again, use `/ticket reopen %(number)s`.",
            ref=t.ref,
            number=t.number,
        )
    if t.state is not TicketState.RESOLVED:
        raise NotAllowed(
            "%(ref)s is %(state)s: it no longer waits for your sign-off.", ref=t.ref, state=t.state
        )
    return _reopen(t, s, a, now)


def _autoclose(t: Ticket, s: Step, a: Actor, now: datetime) -> Ticket:
    _need(t, {TicketState.RESOLVED}, Message("closed without an answer"))
    return replace(
        t, state=TicketState.CLOSED, closed_at=now, extra={**t.extra, "autoclosed": True}
    )


_STEPS = {
    "ack": _ack,
    "take": _take,
    "assign": _assign,
    "cause": _cause,
    "plan": _plan,
    "resolve": _resolve,
    "wait": _wait,
    "resume": _resume,
    "severity": _severity,
    "accept": _accept,
    "decline": _decline,
    "note": _note,
    "close": _close,
    "reopen": _reopen,
    "escalate": _escalate,
    "confirm": _confirm,
    "reject": _reject,
    "autoclose": _autoclose,
}
_TEXT_KEPT_IN_EVENT = frozenset({"note", "severity", "decline", "close", "reopen", "escalate"})


def is_waiting(ticket: Ticket) -> bool:
    return bool(ticket.pauses) and ticket.pauses[-1].end is None


def _end_pause(pauses: tuple[Pause, ...], now: datetime) -> tuple[Pause, ...]:
    if pauses and pauses[-1].end is None:
        return (*pauses[:-1], Pause(start=pauses[-1].start, end=now))
    return pauses
