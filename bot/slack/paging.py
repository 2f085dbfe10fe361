"""Block Kit for reminders, pages and breach notices (SPEC §5), and the /oncall answer.

Every message names the ticket as ``#N``; user text (the summary) goes through ``escape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.rotation import OnCall
from bot.domain.tickets import Ticket
from bot.sla.stages import Stage, StageKind
from bot.slack.blocks import (
    MILESTONE_LABELS,
    SEVERITY_EMOJI,
    Block,
    escape,
    mrkdwn,
    plain,
    slack_date,
    time_left,
)
from bot.slack.ids import Action


def _label(stage: Stage) -> str:
    return MILESTONE_LABELS.get(stage.milestone.value, stage.milestone.value).lower()


def _who(user: str | None) -> str:
    return f"<@{user}>" if user else "_no one on call_"


def _title(ticket: Ticket) -> str:
    summary = ticket.summary if len(ticket.summary) <= 80 else ticket.summary[:79] + "…"
    emoji = SEVERITY_EMOJI[ticket.severity]
    return f"{emoji} *{ticket.ref}* (class {ticket.severity}) {escape(summary)}"


def _when(due: datetime, now: datetime) -> str:
    return f"{slack_date(due)} ({time_left(due, now)})"


def reminder(ticket: Ticket, stage: Stage, *, due: datetime, now: datetime, who: str | None) -> str:
    """The thread reply of a reminder, naming the owner (or the on-call engineer)."""
    return (
        f":alarm_clock: {ticket.ref}: {stage.number}% of the {_label(stage)} time is gone; "
        f"{_label(stage)} is due {_when(due, now)}. {_who(who)}"
    )


def page_text(ticket: Ticket, stage: Stage, *, due: datetime, now: datetime) -> str:
    """One line saying why this page was sent (also the notification's fallback text)."""
    label = _label(stage)
    kind = stage.kind
    if kind is StageKind.PAGE_PRIMARY:
        return (
            f"{ticket.ref} class {ticket.severity} needs a response: respond by {_when(due, now)}."
        )
    if kind is StageKind.PAGE_SECONDARY:
        return f"{ticket.ref} is not acknowledged: the respond target passed {_when(due, now)}."
    if kind is StageKind.REPEAT:
        return (
            f"{ticket.ref} {label} is still not met: due {_when(due, now)} (repeat {stage.number})."
        )
    if kind is StageKind.BREACH:
        return f"{ticket.ref} breached its {label} promise: due {_when(due, now)}."
    return f"{ticket.ref} {label} is not met yet: due {_when(due, now)}."


def page(
    ticket: Ticket,
    stage: Stage,
    *,
    due: datetime,
    now: datetime,
    link: str | None = None,
    manager: bool = False,
) -> tuple[str, list[Block]]:
    """A direct message that pages someone: the ticket and why (with its due time and the
    time left), and what they may do (an engineer: Acknowledge; a manager: Take, Escalate;
    both: Open ticket). Two blocks, so that 24 pages fit one grouped message."""
    why = page_text(ticket, stage, due=due, now=now)
    fallback = f":rotating_light: {why}"
    n = ticket.number
    blocks: list[Block] = [
        {
            "type": "section",
            "block_id": f"page_{n}_head",
            "text": mrkdwn(f":rotating_light: {_title(ticket)}\n{why}"),
        },
        {
            "type": "actions",
            "block_id": f"page_{n}",
            "elements": manager_buttons(ticket, link) if manager else buttons(ticket, link),
        },
    ]
    return fallback, blocks


def escalation_page(ticket: Ticket, by: str) -> tuple[str, list[Block]]:
    """The managers' page when an engineer escalates a ticket: Take, Escalate, Open ticket."""
    text = f":rotating_light: <@{by}> escalated {ticket.ref} (class {ticket.severity})."
    n = ticket.number
    blocks: list[Block] = [
        {
            "type": "section",
            "block_id": f"page_{n}_head",
            "text": mrkdwn(f"{text}\n{_title(ticket)}"),
        },
        {"type": "actions", "block_id": f"page_{n}", "elements": manager_buttons(ticket, None)},
    ]
    return text, blocks


def _opener(ticket: Ticket, link: str | None) -> dict[str, Any]:
    opener: dict[str, Any] = {
        "type": "button",
        "action_id": Action.OPEN,
        "text": plain("Open ticket"),
        "value": str(ticket.number),
    }
    return opener | {"url": link} if link else opener


def buttons(ticket: Ticket, link: str | None) -> list[dict[str, Any]]:
    """An engineer's page: Acknowledge, Open ticket."""
    ack = {
        "type": "button",
        "action_id": Action.ACK,
        "style": "primary",
        "text": plain("Acknowledge"),
        "value": str(ticket.number),
    }
    return [ack, _opener(ticket, link)]


def manager_buttons(ticket: Ticket, link: str | None) -> list[dict[str, Any]]:
    """A manager's page: Take, Escalate, Open ticket (managers do not acknowledge)."""
    value = str(ticket.number)
    take = {
        "type": "button",
        "action_id": Action.TAKE,
        "style": "primary",
        "text": plain("Take"),
        "value": value,
    }
    escalate = {
        "type": "button",
        "action_id": Action.ESCALATE,
        "text": plain("Escalate"),
        "value": value,
    }
    return [take, escalate, _opener(ticket, link)]


MAX_GROUP = 24  # pages in one message (Slack takes 50 blocks: a header, two per page)


def group(pages: Sequence[tuple[str, Sequence[Block]]]) -> tuple[str, list[Block]]:
    """Pages to one person that fell due together, as one message naming every ticket (each
    with its class, summary and buttons), as alerting tools group alerts."""
    if len(pages) == 1:
        text, body = pages[0]
        return text, list(body)
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"{len(pages)} tickets need you")},
    ]
    for _, body in pages:
        blocks += body
    text = f":rotating_light: {len(pages)} tickets need you: " + " ".join(
        t.removeprefix(":rotating_light: ") for t, _ in pages
    )
    return text[:3000], blocks


def settled_note(ticket: Ticket, payload: dict[str, Any]) -> str | None:
    """What a page for ``ticket`` should say now that its step was taken (None: not yet):
    the milestone it names met; for a manager's page, also someone taking the ticket (its
    owner changed since the page); for every page, the ticket resolved or closed."""
    if ticket.resolved_at is not None or ticket.closed_at is not None:
        return f":white_check_mark: {ticket.ref} is {ticket.state.value}."
    who = f" by <@{ticket.assignee_id}>" if ticket.assignee_id else ""
    milestone = payload.get("milestone")
    if milestone is not None and ticket.met_at().get(str(milestone)) is not None:
        verb = "acknowledged" if milestone == "respond" else f"{milestone} met"
        return f":white_check_mark: {ticket.ref} {verb}{who}."
    taken = ticket.assignee_id and ticket.assignee_id != payload.get("assignee")
    if payload.get("manager") and taken:
        return f":white_check_mark: {ticket.ref} taken{who}."
    return None


def settle(blocks: Sequence[Block], number: int, note: str) -> list[Block]:
    """The page's blocks with ticket ``number``'s buttons replaced by ``note``."""
    result: list[Block] = []
    for block in blocks:
        if block.get("block_id") == f"page_{number}" and block.get("type") == "actions":
            block = {
                "type": "context",
                "block_id": f"page_{number}_done",
                "elements": [mrkdwn(note)],
            }
        result.append(block)
    return result


def with_link(blocks: Sequence[Block], link: str) -> list[Block]:
    """The same blocks with the Open ticket button linking to the ticket message."""
    result: list[Block] = []
    for block in blocks:
        if block.get("type") == "actions":
            elements = [
                {**element, "url": link} if element.get("action_id") == Action.OPEN else element
                for element in block.get("elements", [])
            ]
            block = {**block, "elements": elements}
        result.append(block)
    return result


def breach_notice(
    ticket: Ticket, stage: Stage, *, due: datetime, now: datetime
) -> tuple[str, list[Block]]:
    """The notice in the managers channel when a promise is broken."""
    why = page_text(ticket, stage, due=due, now=now)
    blocks: list[Block] = [
        {"type": "section", "text": mrkdwn(f":fire: *Breach* {_title(ticket)}\n{why}")},
        {
            "type": "actions",
            "block_id": f"breach_{ticket.number}",
            "elements": manager_buttons(ticket, None),
        },
    ]
    return f":fire: Breach: {why}", blocks


def thread_note(
    ticket: Ticket, stage: Stage, *, due: datetime, now: datetime, who: str | None
) -> str:
    """What the ticket's thread says about an escalation step."""
    kind = stage.kind
    if kind is StageKind.PAGE_PRIMARY:
        return f":warning: {ticket.ref}: no one is on call to page; respond by {_when(due, now)}."
    if kind is StageKind.PAGE_SECONDARY:
        paged = f"paging the secondary {_who(who)}" if who else "no secondary to page"
        return f":rotating_light: {ticket.ref} is not acknowledged in time; {paged}."
    label = _label(stage)
    return f":fire: {ticket.ref} breached its {label} promise (due {slack_date(due)}). {_who(who)}"


def oncall_answer(current: OnCall, following: OnCall) -> str:
    """The /oncall reply: who is on call now and who is next."""
    note = " (override)" if current.override else ""
    lines = [
        f"*On call now*: primary {_who(current.primary)}{note}, "
        f"secondary {_who(current.secondary)}, until {slack_date(current.until)}",
        f"*Next*: primary {_who(following.primary)}, secondary {_who(following.secondary)}, "
        f"from {slack_date(following.since)}",
    ]
    return "\n".join(lines)
