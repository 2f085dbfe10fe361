"""Block Kit for working a ticket: sign-off, rating, checklist, approvals, escalation pages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.domain.kb import joins_knowledge_base
from bot.domain.tickets import Ticket
from bot.slack.blocks import Block, View, escape, mrkdwn, plain
from bot.slack.kb import confirm_kb_blocks

CONFIRM_YES = "confirm_yes"
CONFIRM_NO = "confirm_no"
RATING_CALLBACK = "rating"
CHECKLIST_CALLBACK = "resolve_checklist"
DECLINE_CALLBACK = "decline_reason"
APPROVE_ACTION = "approval_accept"
DECLINE_ACTION = "approval_decline"
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


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def confirm_request(ticket: Ticket) -> Notice:
    text = f"<@{ticket.reporter_id}>, {ticket.ref} is resolved. Is it fixed?"
    resolution = escape(ticket.resolution[:2500])
    return Notice(
        text=text,
        blocks=[
            {"type": "section", "text": mrkdwn(f"{text}\n>{resolution}")},
            *confirm_kb_blocks(ticket.number, joins_knowledge_base(ticket.extra)),
            {
                "type": "actions",
                "block_id": f"confirm_{ticket.number}",
                "elements": [
                    _button("Yes, it is fixed", CONFIRM_YES, str(ticket.number), "primary"),
                    _button("No, not yet", CONFIRM_NO, str(ticket.number), "danger"),
                ],
            },
            {
                "type": "context",
                "elements": [mrkdwn("No answer in 3 working days closes the ticket.")],
            },
        ],
    )


def rating_modal(ticket: Ticket) -> View:
    options = [{"text": plain("★" * n + "☆" * (5 - n)), "value": str(n)} for n in range(5, 0, -1)]
    return {
        "type": "modal",
        "callback_id": RATING_CALLBACK,
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
        "callback_id": CHECKLIST_CALLBACK,
        "private_metadata": json.dumps({"ticket": ticket.number}),
        "title": plain(f"Resolve {ticket.ref}"),
        "submit": plain("Resolve"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "section", "text": mrkdwn(f"*{ticket.ref}* {escape(ticket.summary)}")},
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
        "callback_id": DECLINE_CALLBACK,
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
            {"type": "section", "text": mrkdwn(f"{text}\n*{escape(ticket.summary)}*")},
            {
                "type": "actions",
                "elements": [
                    _button("Accept", APPROVE_ACTION, str(ticket.number), "primary"),
                    _button("Decline", DECLINE_ACTION, str(ticket.number), "danger"),
                ],
            },
        ],
    )


def approval_outcome(ticket: Ticket) -> str:
    if ticket.extra.get("approval") == "accepted":
        return f"Your out-of-warranty request {ticket.ref} is accepted; an engineer will respond."
    reason = escape(str(ticket.extra.get("declined_reason", "")))
    return f"Your out-of-warranty request {ticket.ref} is declined: {reason}"


def escalation_page(ticket: Ticket, by: str) -> Notice:
    text = f":rotating_light: <@{by}> escalated {ticket.ref} (class {ticket.severity})."
    return Notice(
        text=text,
        blocks=[
            {"type": "section", "text": mrkdwn(f"{text}\n*{escape(ticket.summary)}*")},
            {
                "type": "actions",
                "elements": [_button("Acknowledge", "ticket_ack", str(ticket.number), "primary")],
            },
        ],
    )
