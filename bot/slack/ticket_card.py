"""Block Kit for working a ticket: sign-off, rating, checklist, approvals, escalation pages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.kb import joins_knowledge_base
from bot.domain.tickets import Ticket
from bot.domain.workflow import Actor, Prompt
from bot.sla.policy import SIGNOFF_WAIT_DAYS
from bot.slack.blocks import Block, View, button, escape, escaped, mrkdwn, plain, ticket_actions
from bot.slack.ids import Action, Callback
from bot.slack.kb import confirm_kb_blocks

CHECKLIST = (
    ("data_backup", "The data is backed up"),
    ("file_backup", "The program files are backed up"),
    ("customer_told", "The customer is told of the update and its time"),
    ("second_test", "A second person tested the fix"),
)
KB_KEEP_OUT_BLOCK = "kb"  # the checklist's tick that leaves the ticket out of the knowledge base
KB_KEEP_OUT_VALUE = "keep_out"


@dataclass(frozen=True)
class Notice:
    text: str
    blocks: list[Block]


def confirm_request(ticket: Ticket) -> Notice:
    text = f"<@{ticket.reporter_id}>, {ticket.ref} is resolved. Is it fixed?"
    resolution = escaped(ticket.resolution, 2500)
    return Notice(
        text=text,
        blocks=[
            {"type": "section", "text": mrkdwn(f"{text}\n>{resolution}")},
            *confirm_kb_blocks(ticket.number, joins_knowledge_base(ticket.extra)),
            {
                "type": "actions",
                "block_id": f"confirm_{ticket.number}",
                "elements": [
                    button("Yes, it is fixed", Action.CONFIRM_YES, str(ticket.number), "primary"),
                    button("No, not yet", Action.CONFIRM_NO, str(ticket.number), "danger"),
                ],
            },
            {
                "type": "context",
                "elements": [
                    mrkdwn(f"No answer in {SIGNOFF_WAIT_DAYS} working days closes the ticket.")
                ],
            },
        ],
    )


def rating_modal(ticket: Ticket) -> View:
    options = [{"text": plain("★" * n + "☆" * (5 - n)), "value": str(n)} for n in range(5, 0, -1)]
    return {
        "type": "modal",
        "callback_id": Callback.RATING,
        "private_metadata": json.dumps({"ticket": ticket.number}),
        "title": plain(f"Rate {ticket.ref}"),
        "submit": plain("Send"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "rating",
                "label": plain("How was the service?"),
                "element": {"type": "radio_buttons", "action_id": "value", "options": options},
            },
            {
                "type": "input",
                "block_id": "comment",
                "optional": True,
                "label": plain("Anything to add?"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 2000,
                },
            },
        ],
    }


def checklist_modal(ticket: Ticket, resolution: str = "") -> View:
    """The maintenance checklist of JZB10-2008 §4.1 and the resolution text."""
    options = [{"text": plain(label), "value": key} for key, label in CHECKLIST]
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": 3000,
    }
    if resolution:
        element["initial_value"] = resolution[:3000]
    return {
        "type": "modal",
        "callback_id": Callback.CHECKLIST,
        "private_metadata": json.dumps({"ticket": ticket.number}),
        "title": plain(f"Resolve {ticket.ref}"),
        "submit": plain("Resolve"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "section", "text": mrkdwn(f"*{ticket.ref}* {escaped(ticket.summary, 2900)}")},
            {
                "type": "input",
                "block_id": "checklist",
                "optional": True,
                "label": plain("Maintenance checklist"),
                "element": {"type": "checkboxes", "action_id": "value", "options": options},
            },
            {
                "type": "input",
                "block_id": "update_time",
                "optional": True,
                "label": plain("When the customer gets the update"),
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 200},
            },
            {
                "type": "input",
                "block_id": "resolution",
                "label": plain("What was done"),
                "element": element,
            },
            {
                "type": "input",
                "block_id": KB_KEEP_OUT_BLOCK,
                "optional": True,
                "label": plain("Knowledge base"),
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [
                        {
                            "text": plain("Leave this ticket out of the knowledge base"),
                            "value": KB_KEEP_OUT_VALUE,
                        }
                    ],
                },
            },
        ],
    }


def decline_modal(ticket: Ticket) -> View:
    return {
        "type": "modal",
        "callback_id": Callback.DECLINE,
        "private_metadata": json.dumps({"ticket": ticket.number}),
        "title": plain(f"Decline {ticket.ref}"),
        "submit": plain("Decline"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": plain("Why is it declined?"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 2000,
                },
            }
        ],
    }


def approval_request(ticket: Ticket) -> Notice:
    text = (
        f"{ticket.ref} is an out-of-warranty request from "
        f"{escape(ticket.customer or 'a customer')}: accept or decline it."
    )
    return Notice(
        text=text,
        blocks=[
            {"type": "section", "text": mrkdwn(f"{text}\n*{escaped(ticket.summary, 1500)}*")},
            {
                "type": "actions",
                "elements": [
                    button("Accept", Action.APPROVE, str(ticket.number), "primary"),
                    button("Decline", Action.DECLINE, str(ticket.number), "danger"),
                ],
            },
        ],
    )


PROMPT_TITLES = {
    Prompt.SIGNOFF: "Is it fixed?",
    Prompt.APPROVAL: "Out-of-warranty request",
}


def answered_prompt(ticket: Ticket, prompt: Prompt, outcome: str) -> Notice:
    """A prompt whose step was taken (``outcome``: the thread line that tells it): what its
    messages say instead, with no buttons."""
    title = f"{ticket.ref} {escaped(ticket.summary, 1500)}"
    text = f"{PROMPT_TITLES[prompt]} {ticket.ref}: answered. {outcome}"
    return Notice(
        text=text,
        blocks=[
            {"type": "section", "text": mrkdwn(f"~{PROMPT_TITLES[prompt]}~ *{title}*")},
            {"type": "context", "elements": [mrkdwn(f":white_check_mark: {outcome}")]},
        ],
    )


def approval_outcome(ticket: Ticket) -> str:
    if ticket.extra.get("approval") == "accepted":
        return f"Your out-of-warranty request {ticket.ref} is accepted; an engineer will respond."
    reason = escaped(str(ticket.extra.get("declined_reason", "")), 2800)
    return f"Your out-of-warranty request {ticket.ref} is declined: {reason}"


def escalation_page(ticket: Ticket, by: str, *, to: Actor, now: datetime) -> Notice:
    """The page a manager gets when someone escalates: the buttons their role may use (a
    manager takes or escalates; only an engineer acknowledges) and Open ticket."""
    text = f":rotating_light: <@{by}> escalated {ticket.ref} (class {ticket.severity})."
    elements = ticket_actions(ticket, now, to)
    elements.append(button("Open ticket", Action.OPEN, str(ticket.number)))
    return Notice(
        text=text,
        blocks=[
            {"type": "section", "text": mrkdwn(f"{text}\n*{escaped(ticket.summary, 1500)}*")},
            {"type": "actions", "elements": elements},
        ],
    )
