"""Block Kit for working a ticket: sign-off, rating, checklist, approvals, escalation pages.

Each builder takes the translator ``tr`` of who reads it: the one who opens a form, the
workspace for what is posted in a channel or sent for the bot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.domain.kb import joins_knowledge_base
from bot.domain.tickets import Ticket
from bot.domain.workflow import Prompt
from bot.sla.policy import SIGNOFF_WAIT_DAYS
from bot.slack.blocks import (
    TITLE_MAX,
    Block,
    View,
    button,
    escape,
    escaped,
    mrkdwn,
    plain,
)
from bot.slack.i18n import C_, N_, Translator, mention
from bot.slack.ids import Action, Callback
from bot.slack.kb import confirm_kb_blocks

CHECKLIST = (
    ("data_backup", N_("The data is backed up")),
    ("file_backup", N_("The program files are backed up")),
    ("customer_told", N_("The customer is told of the update and its time")),
    ("second_test", N_("A second person tested the fix")),
)
OPEN_BUTTON = C_("button that shows a ticket", "Open ticket")
KB_KEEP_OUT_BLOCK = "kb"  # the checklist's tick that leaves the ticket out of the knowledge base
KB_KEEP_OUT_VALUE = "keep_out"


@dataclass(frozen=True)
class Notice:
    text: str
    blocks: list[Block]


def confirm_request(tr: Translator, ticket: Ticket) -> Notice:
    text = tr(
        "%(reporter)s, %(ref)s is resolved. Is it fixed?",
        reporter=mention(ticket.reporter_id),
        ref=ticket.ref,
    )
    resolution = escaped(ticket.resolution, 2500)
    wait = tr.plural(
        "No answer in %(n)d working day closes the ticket.",
        "No answer in %(n)d working days closes the ticket.",
        SIGNOFF_WAIT_DAYS,
    )
    return Notice(
        text=text,
        blocks=[
            {"type": "section", "text": mrkdwn(f"{text}\n>{resolution}")},
            *confirm_kb_blocks(tr, ticket.number, joins_knowledge_base(ticket.extra)),
            {
                "type": "actions",
                "block_id": f"confirm_{ticket.number}",
                "elements": [
                    button(
                        tr("Yes, it is fixed"), Action.CONFIRM_YES, str(ticket.number), "primary"
                    ),
                    button(tr("No, not yet"), Action.CONFIRM_NO, str(ticket.number), "danger"),
                ],
            },
            {"type": "context", "elements": [mrkdwn(wait)]},
        ],
    )


def rating_modal(tr: Translator, ticket: Ticket) -> View:
    options = [{"text": plain("★" * n + "☆" * (5 - n)), "value": str(n)} for n in range(5, 0, -1)]
    return {
        "type": "modal",
        "callback_id": Callback.RATING,
        "private_metadata": json.dumps({"ticket": ticket.number}),
        "title": plain(tr("Rate %(ref)s", ref=ticket.ref), TITLE_MAX),
        "submit": plain(tr("Send"), TITLE_MAX),
        "close": plain(tr("Cancel"), TITLE_MAX),
        "blocks": [
            {
                "type": "input",
                "block_id": "rating",
                "label": plain(tr("How was the service?")),
                "element": {"type": "radio_buttons", "action_id": "value", "options": options},
            },
            {
                "type": "input",
                "block_id": "comment",
                "optional": True,
                "label": plain(tr("Anything to add?")),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 2000,
                },
            },
        ],
    }


def checklist_modal(tr: Translator, ticket: Ticket, resolution: str = "") -> View:
    """The maintenance checklist of JZB10-2008 §4.1 and the resolution text."""
    options = [{"text": plain(tr(label)), "value": key} for key, label in CHECKLIST]
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
        "title": plain(tr("Resolve %(ref)s", ref=ticket.ref), TITLE_MAX),
        "submit": plain(tr("Resolve"), TITLE_MAX),
        "close": plain(tr("Cancel"), TITLE_MAX),
        "blocks": [
            {"type": "section", "text": mrkdwn(f"*{ticket.ref}* {escaped(ticket.summary, 2900)}")},
            {
                "type": "input",
                "block_id": "checklist",
                "optional": True,
                "label": plain(tr("Maintenance checklist")),
                "element": {"type": "checkboxes", "action_id": "value", "options": options},
            },
            {
                "type": "input",
                "block_id": "update_time",
                "optional": True,
                "label": plain(tr("When the customer gets the update")),
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 200},
            },
            {
                "type": "input",
                "block_id": "resolution",
                "label": plain(tr("What was done")),
                "element": element,
            },
            {
                "type": "input",
                "block_id": KB_KEEP_OUT_BLOCK,
                "optional": True,
                "label": plain(tr("Knowledge base")),
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [
                        {
                            "text": plain(tr("Leave this ticket out of the knowledge base")),
                            "value": KB_KEEP_OUT_VALUE,
                        }
                    ],
                },
            },
        ],
    }


def decline_modal(tr: Translator, ticket: Ticket) -> View:
    return {
        "type": "modal",
        "callback_id": Callback.DECLINE,
        "private_metadata": json.dumps({"ticket": ticket.number}),
        "title": plain(tr("Decline %(ref)s", ref=ticket.ref), TITLE_MAX),
        "submit": plain(tr("Decline"), TITLE_MAX),
        "close": plain(tr("Cancel"), TITLE_MAX),
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": plain(tr("Why is it declined?")),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 2000,
                },
            }
        ],
    }


def approval_request(tr: Translator, ticket: Ticket) -> Notice:
    customer = escape(ticket.customer) if ticket.customer else tr("a customer")
    text = tr(
        "%(ref)s is an out-of-warranty request from %(customer)s: accept or decline it.",
        ref=ticket.ref,
        customer=customer,
    )
    return Notice(
        text=text,
        blocks=[
            {"type": "section", "text": mrkdwn(f"{text}\n*{escaped(ticket.summary, 1500)}*")},
            {
                "type": "actions",
                "elements": [
                    button(tr("Accept"), Action.APPROVE, str(ticket.number), "primary"),
                    button(tr("Decline"), Action.DECLINE, str(ticket.number), "danger"),
                ],
            },
        ],
    )


PROMPT_TITLES = {
    Prompt.SIGNOFF: N_("Is it fixed?"),
    Prompt.APPROVAL: N_("Out-of-warranty request"),
}


def answered_prompt(tr: Translator, ticket: Ticket, prompt: Prompt, outcome: str) -> Notice:
    """A prompt whose step was taken (``outcome``: the thread line that tells it): what its
    messages say instead, with no buttons."""
    title = f"{ticket.ref} {escaped(ticket.summary, 1500)}"
    asked = tr(PROMPT_TITLES[prompt])
    text = tr(
        "%(asked)s %(ref)s: answered. %(outcome)s", asked=asked, ref=ticket.ref, outcome=outcome
    )
    return Notice(
        text=text,
        blocks=[
            {"type": "section", "text": mrkdwn(f"~{asked}~ *{title}*")},
            {"type": "context", "elements": [mrkdwn(f":white_check_mark: {outcome}")]},
        ],
    )


def approval_outcome(tr: Translator, ticket: Ticket) -> str:
    if ticket.extra.get("approval") == "accepted":
        return tr(
            "Your out-of-warranty request %(ref)s is accepted; an engineer will respond.",
            ref=ticket.ref,
        )
    reason = escaped(str(ticket.extra.get("declined_reason", "")), 2800)
    return tr(
        "Your out-of-warranty request %(ref)s is declined: %(reason)s",
        ref=ticket.ref,
        reason=reason,
    )
