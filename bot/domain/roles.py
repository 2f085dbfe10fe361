"""Who may do what: the roles a person has (from the config, and the reporter's on their own
ticket), which roles may take each step on a ticket, and what some may do beyond one ticket
(:class:`Duty`). A refusal names who may."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.tickets import Ticket
from bot.errors import Message, UserError


class Refused(UserError):
    """The user does not have the role for this step."""


class Role(StrEnum):
    ENGINEER = "engineer"
    MANAGER = "manager"
    REPORTER = "reporter"
    ANYONE = "anyone"


@dataclass(frozen=True)
class Actor:
    user_id: str
    engineer: bool = False
    manager: bool = False

    @property
    def roles(self) -> set[Role]:
        """The roles this person has anywhere (the reporter's is per ticket)."""
        roles = {Role.ANYONE}
        if self.engineer:
            roles.add(Role.ENGINEER)
        if self.manager:
            roles.add(Role.MANAGER)
        return roles

    def roles_on(self, ticket: Ticket) -> set[Role]:
        roles = self.roles
        if ticket.reporter_id == self.user_id:
            roles.add(Role.REPORTER)
        return roles


WHO_MAY: Mapping[str, frozenset[Role]] = {
    "ack": frozenset({Role.ENGINEER}),
    "take": frozenset({Role.ENGINEER, Role.MANAGER}),
    "assign": frozenset({Role.ENGINEER, Role.MANAGER}),
    "cause": frozenset({Role.ENGINEER}),
    "plan": frozenset({Role.ENGINEER}),
    "resolve": frozenset({Role.ENGINEER}),
    "wait": frozenset({Role.ENGINEER}),
    "resume": frozenset({Role.ENGINEER}),
    "severity": frozenset({Role.ENGINEER, Role.MANAGER}),
    "accept": frozenset({Role.MANAGER}),
    "decline": frozenset({Role.MANAGER}),
    "note": frozenset({Role.ENGINEER, Role.MANAGER, Role.REPORTER}),
    "close": frozenset({Role.ENGINEER, Role.MANAGER}),
    "reopen": frozenset({Role.ENGINEER, Role.MANAGER, Role.REPORTER}),
    "escalate": frozenset({Role.ENGINEER, Role.MANAGER, Role.REPORTER}),
    "confirm": frozenset({Role.REPORTER}),
    "reject": frozenset({Role.REPORTER}),
    "autoclose": frozenset(),  # the bot itself
}
ROLE_WORDS = {
    Role.ENGINEER: Message("an engineer"),
    Role.MANAGER: Message("a manager"),
    Role.REPORTER: Message("the reporter"),
}
ROLE_PLURALS = {Role.ENGINEER: Message("engineers"), Role.MANAGER: Message("managers")}
# A step as a refusal names it: its command's word (in Chinese the name SPEC §6 gives it).
STEP_WORDS: Mapping[str, Message] = {
    "ack": Message("ack"),
    "take": Message("take"),
    "assign": Message("assign"),
    "cause": Message("record the cause of"),
    "plan": Message("give the plan of"),
    "resolve": Message("resolve"),
    "wait": Message("wait"),
    "resume": Message("resume"),
    "severity": Message("reclassify"),
    "accept": Message("accept"),
    "decline": Message("decline"),
    "note": Message("add a note to"),
    "close": Message("close"),
    "reopen": Message("reopen"),
    "escalate": Message("escalate"),
    "confirm": Message("confirm the fix of"),
    "reject": Message("say not fixed"),
    "autoclose": Message("close"),
}


class Duty(StrEnum):
    """What some people may do beyond a step on one ticket."""

    READ_REPORT = "read the monthly report"
    OVERRIDE_ONCALL = "override the on-call rotation"
    SEE_TEAM = "see the team's open tickets"


WHO_MAY_DUTY: Mapping[Duty, frozenset[Role]] = {
    Duty.READ_REPORT: frozenset({Role.MANAGER}),
    Duty.OVERRIDE_ONCALL: frozenset({Role.ENGINEER, Role.MANAGER}),
    Duty.SEE_TEAM: frozenset({Role.ENGINEER, Role.MANAGER}),
}


def check_holder(person: Actor) -> None:
    """Tickets are assigned, and on-call shifts given, to engineers and managers only: a
    customer made on-call primary would be paged for every A and B report."""
    if not {Role.ENGINEER, Role.MANAGER} & person.roles:
        raise Refused(
            "%(user)s is neither an engineer nor a manager; tickets and on-call shifts go to them.",
            user=f"<@{person.user_id}>",
        )


def may_do(duty: Duty, actor: Actor) -> bool:
    return bool(WHO_MAY_DUTY[duty] & actor.roles)


def check_duty(duty: Duty, actor: Actor) -> None:
    """Refused (with who may) unless ``actor`` may do ``duty``."""
    if not may_do(duty, actor):
        allowed = _in_order(WHO_MAY_DUTY[duty])
        who = (
            ROLE_WORDS[allowed[0]]
            if len(allowed) == 1
            else _joined([ROLE_PLURALS[r] for r in allowed], "and")
        )
        raise Refused("Only %(who)s can %(duty)s.", who=who, duty=duty)


def _joined(words: list[Message], how: str) -> Message:
    """``a, b or c`` (``and``), as a message each language words its own way."""
    joined = words[0]
    for word in words[1:-1]:
        joined = Message("%(a)s, %(b)s", a=joined, b=word)
    if len(words) > 1:
        last = words[-1]
        joined = (
            Message("%(a)s or %(b)s", a=joined, b=last)
            if how == "or"
            else Message("%(a)s and %(b)s", a=joined, b=last)
        )
    return joined


def _in_order(roles: frozenset[Role]) -> list[Role]:
    return sorted(roles, key=list(Role).index)


def check_role(ticket: Ticket, verb: str, actor: Actor) -> None:
    """Refused (with who may) unless ``actor``'s roles allow the step ``verb`` on the ticket."""
    allowed = WHO_MAY[verb]
    if verb == "note" and ticket.assignee_id == actor.user_id:
        return
    if verb == "reopen" and ticket.extra.get("approval") == "declined":
        # a manager's decline is undone by a manager: reopened by anyone else, an
        # out-of-warranty request would be open for work without being accepted
        if Role.MANAGER not in actor.roles:
            raise Refused(
                "%(ref)s was declined by a manager: only a manager can reopen it.",
                ref=ticket.ref,
            )
        return
    if not allowed & actor.roles_on(ticket):
        who = _joined([ROLE_WORDS[r] for r in _in_order(allowed)], "or")
        step = STEP_WORDS.get(verb, verb)
        raise Refused("Only %(who)s can %(verb)s %(ref)s.", who=who, verb=step, ref=ticket.ref)


def may(ticket: Ticket, verb: str, actor: Actor) -> bool:
    """Whether ``actor``'s roles allow the step on the ticket (its state aside): what a
    message addressed to one person offers them."""
    try:
        check_role(ticket, verb, actor)
    except Refused:
        return False
    return True
