"""Block Kit for working a ticket: sign-off, rating, checklist, approvals, escalation pages.

Each builder takes the translator ``tr`` of who reads it: the one who opens a form, the
workspace for what is posted in a channel or sent for the bot."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.kb import joins_knowledge_base
from bot.domain.tickets import Ticket
from bot.domain.workflow import Prompt
from bot.sla.policy import SIGNOFF_WAIT_DAYS
from bot.slack.blocks import (
    Block,
    View,
    button,
    choice_input,
    escape,
    escaped,
    modal,
    mrkdwn,
    text_input,
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
    stars = [("★" * n + "☆" * (5 - n), str(n)) for n in range(5, 0, -1)]
    return modal(
        Callback.RATING,
        tr("Rate %(ref)s", ref=ticket.ref),
        [
            choice_input("rating", tr("How was the service?"), "radio_buttons", stars),
            text_input(
                "comment", tr("Anything to add?"), multiline=True, max_length=2000, optional=True
            ),
        ],
        submit=tr("Send"),
        close=tr("Cancel"),
        metadata={"ticket": ticket.number},
    )


def checklist_modal(tr: Translator, ticket: Ticket, resolution: str = "") -> View:
    """The maintenance checklist of JZB10-2008 §4.1 and the resolution text."""
    checklist = [(tr(label), key) for key, label in CHECKLIST]
    keep_out = [(tr("Leave this ticket out of the knowledge base"), KB_KEEP_OUT_VALUE)]
    return modal(
        Callback.CHECKLIST,
        tr("Resolve %(ref)s", ref=ticket.ref),
        [
            {"type": "section", "text": mrkdwn(f"*{ticket.ref}* {escaped(ticket.summary, 2900)}")},
            choice_input(
                "checklist", tr("Maintenance checklist"), "checkboxes", checklist, optional=True
            ),
            text_input(
                "update_time",
                tr("When the customer gets the update"),
                max_length=200,
                optional=True,
            ),
            text_input(
                "resolution",
                tr("What was done"),
                multiline=True,
                max_length=3000,
                initial=resolution,
            ),
            choice_input(
                KB_KEEP_OUT_BLOCK, tr("Knowledge base"), "checkboxes", keep_out, optional=True
            ),
        ],
        submit=tr("Resolve"),
        close=tr("Cancel"),
        metadata={"ticket": ticket.number},
    )


def decline_modal(tr: Translator, ticket: Ticket) -> View:
    reason = text_input("reason", tr("Why is it declined?"), multiline=True, max_length=2000)
    return modal(
        Callback.DECLINE,
        tr("Decline %(ref)s", ref=ticket.ref),
        [reason],
        submit=tr("Decline"),
        close=tr("Cancel"),
        metadata={"ticket": ticket.number},
    )


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
