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
    ticket: Ticket, stage: Stage, *, due: datetime, now: datetime, link: str | None = None
) -> tuple[str, list[Block]]:
    """A direct message that pages someone: the ticket, the time left, Acknowledge and Open."""
    why = page_text(ticket, stage, due=due, now=now)
    fallback = f":rotating_light: {why}"
    blocks: list[Block] = [
        {"type": "section", "text": mrkdwn(f":rotating_light: {_title(ticket)}\n{why}")},
        {
            "type": "context",
            "elements": [
                mrkdwn(f"{MILESTONE_LABELS.get(stage.milestone.value)} due {_when(due, now)}")
            ],
        },
        {"type": "actions", "block_id": f"page_{ticket.number}", "elements": buttons(ticket, link)},
    ]
    return fallback, blocks


def buttons(ticket: Ticket, link: str | None) -> list[dict[str, Any]]:
    value = str(ticket.number)
    ack = {
        "type": "button",
        "action_id": Action.ACK,
        "style": "primary",
        "text": plain("Acknowledge"),
        "value": value,
    }
    opener: dict[str, Any] = {"type": "button", "text": plain("Open ticket"), "value": value}
    if link:
        opener |= {"action_id": Action.OPEN, "url": link}
    else:
        opener["action_id"] = Action.OPEN
    return [ack, opener]


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
            "elements": buttons(ticket, None),
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
