"""Block Kit, built from domain objects. Every piece of user text goes through ``escape``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.domain.tickets import DETAILS_MAX, SUMMARY_MAX, SYSTEM_MAX, Ticket
from bot.domain.triage import MEANING, QUESTIONS, Question, classify
from bot.sla.policy import Severity

Block = dict[str, Any]
View = dict[str, Any]

REPORT_CALLBACK = "report"
TRIAGE_ACTION = "triage_answer"
REPORT_THIS_ACTION = "report_this"
SUMMARY_BLOCK = "summary"  # the summary input dispatches its value (action_id "value")
SEVERITY_EMOJI = {
    Severity.A: ":red_circle:",
    Severity.B: ":large_orange_circle:",
    Severity.C: ":large_yellow_circle:",
    Severity.D: ":white_circle:",
}
MILESTONE_LABELS = {
    "respond": "Respond",
    "diagnose": "Diagnose",
    "plan": "Plan",
    "resolve": "Resolve",
}


def escape(text: str) -> str:
    """User text for mrkdwn: no mentions (<!channel>, <@U…>), no links made of <…|…>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    """A plain_text object (Slack shows it as typed, no mrkdwn), cut to ``limit``."""
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _cut(text, 3000)}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_date(when: datetime) -> str:
    """A Slack date token: each reader sees their own timezone."""
    fallback = when.strftime("%Y-%m-%d %H:%M %Z")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def time_left(due: datetime, now: datetime) -> str:
    delta = due - now
    late = delta < timedelta(0)
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    if not days and not hours and not mins:
        return "overdue" if late else "under 1m left"
    parts += [f"{mins}m"] if mins else []
    span = " ".join(parts[:2])
    return f"overdue by {span}" if late else f"{span} left"


# ----- the report modal ---------------------------------------------------------------


def report_modal(
    *,
    summary: str = "",
    details: str = "",
    system: str = "",
    answers: Sequence[bool] = (),
    metadata: Mapping[str, Any] | None = None,
    under_summary: Sequence[Block] = (),
) -> View:
    """The report form with the triage questions asked one at a time (SPEC §4).
    ``under_summary``: the knowledge base's matches for what is typed (bot/slack/kb.py); the
    summary dispatches its value as it is typed so they can follow it."""
    summary_input = _text_input("summary", "Summary", summary, SUMMARY_MAX, multiline=False)
    summary_input["dispatch_action"] = True
    summary_input["element"]["dispatch_action_config"] = {
        "trigger_actions_on": ["on_enter_pressed", "on_character_entered"]
    }
    blocks: list[Block] = [
        summary_input,
        *under_summary,
        _text_input("details", "What happened?", details, DETAILS_MAX, multiline=True),
        _text_input(
            "system", "Affected system", system, SYSTEM_MAX, multiline=False, optional=True
        ),
        {"type": "divider"},
    ]
    for index, question in enumerate(QUESTIONS[: len(answers) + 1]):
        answer = answers[index] if index < len(answers) else None
        blocks.append(_question_block(question, answer))
        if answer:
            break
    severity = classify(answers)
    if severity is not None:
        blocks.append(
            {
                "type": "section",
                "block_id": "triage_result",
                "text": mrkdwn(
                    f"{SEVERITY_EMOJI[severity]} *Class {severity}*: {MEANING[severity]}"
                ),
            }
        )
    return {
        "type": "modal",
        "callback_id": REPORT_CALLBACK,
        "title": plain("Report a problem"),
        "submit": plain("Open ticket"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps(dict(metadata or {})),
        "blocks": blocks,
    }


def question_block_id(question: Question) -> str:
    return f"triage_{question.key}"


def _question_block(question: Question, answer: bool | None) -> Block:
    options = [
        {"text": plain("Yes"), "value": "yes"},
        {"text": plain("No"), "value": "no"},
    ]
    element: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": TRIAGE_ACTION,
        "options": options,
    }
    if answer is not None:
        element["initial_option"] = options[0] if answer else options[1]
    return {
        "type": "input",
        "block_id": question_block_id(question),
        "dispatch_action": True,
        "label": plain(question.text, 2000),
        "element": element,
    }


def _text_input(
    block_id: str, label: str, value: str, limit: int, *, multiline: bool, optional: bool = False
) -> Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": multiline,
    }
    if value:
        # Slack refuses an initial value over the input's limit; the check on submit says so.
        element["initial_value"] = value[:3000]
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label),
        "element": element,
    }


def report_pending() -> View:
    """The answer when storing the report takes longer than Slack waits."""
    return {
        "type": "modal",
        "callback_id": "report_pending",
        "title": plain("Report a problem"),
        "close": plain("Close"),
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(
                    "Your report is being saved. You will get its ticket number by direct "
                    "message in a moment."
                ),
            }
        ],
    }


def report_confirmation(ticket: Ticket, deadlines: Mapping[str, datetime], now: datetime) -> View:
    text = (
        f"{SEVERITY_EMOJI[ticket.severity]} Ticket *{ticket.ref}* is open, "
        f"*class {ticket.severity}*: {MEANING[ticket.severity]}.\n"
        f"It is posted in <#{ticket.post_channel}>; the thread there tells its story."
    )
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(text)}]
    if deadlines:
        blocks.append(_deadline_fields(deadlines, now))
    return {
        "type": "modal",
        "callback_id": "report_done",
        "title": plain(f"Ticket {ticket.ref}"),
        "close": plain("Done"),
        "blocks": blocks,
    }


# ----- the ticket message ------------------------------------------------------------


def ticket_message(ticket: Ticket, deadlines: Mapping[str, datetime], now: datetime) -> list[Block]:
    """The ticket's message in the channel: state, class, owner, deadlines."""
    owner = f"<@{ticket.assignee_id}>" if ticket.assignee_id else "_unassigned_"
    header = f"{ticket.ref} {ticket.summary}"
    fields = [
        mrkdwn(f"*Class*\n{SEVERITY_EMOJI[ticket.severity]} {ticket.severity}"),
        mrkdwn(f"*State*\n{ticket.state.value.replace('_', ' ')}"),
        mrkdwn(f"*Reporter*\n<@{ticket.reporter_id}>"),
        mrkdwn(f"*Owner*\n{owner}"),
    ]
    if ticket.system:
        fields.append(mrkdwn(f"*System*\n{escape(_cut(ticket.system, 1900))}"))
    if ticket.customer:
        warranty = "in warranty" if ticket.in_warranty else "out of warranty"
        fields.append(mrkdwn(f"*Customer*\n{escape(_cut(ticket.customer, 1900))} ({warranty})"))
    blocks: list[Block] = [
        {"type": "header", "text": plain(escape(_cut(header, 120)), 150)},
        {"type": "section", "fields": fields},
        {"type": "section", "text": mrkdwn(escape(_cut(ticket.details, 2900)))},
    ]
    if deadlines:
        blocks.append(_deadline_fields(deadlines, now, ticket.met_at()))
    blocks.append(
        {
            "type": "context",
            "elements": [mrkdwn(f"Reported {slack_date(ticket.reported_at)}")],
        }
    )
    actions = ticket_actions(ticket)
    if actions:
        blocks.append({"type": "actions", "block_id": "ticket_actions", "elements": actions})
    return blocks


TICKET_BUTTONS = (
    ("ticket_ack", "Acknowledge", "primary"),
    ("ticket_take", "Take", None),
    ("ticket_resolve", "Resolve", None),
    ("ticket_escalate", "Escalate", "danger"),
)
_WORKING = ("open", "acknowledged", "diagnosed", "planned")


def ticket_actions(ticket: Ticket) -> list[Block]:
    """Buttons for the common steps that fit the ticket's state."""
    if ticket.state.value not in _WORKING:
        return []
    buttons: list[Block] = []
    for action_id, label, style in TICKET_BUTTONS:
        if action_id == "ticket_ack" and ticket.acknowledged_at is not None:
            continue
        button: Block = {
            "type": "button",
            "action_id": action_id,
            "text": plain(label),
            "value": str(ticket.number),
        }
        if style:
            button["style"] = style
        buttons.append(button)
    return buttons


def ticket_fallback_text(ticket: Ticket) -> str:
    return escape(f"{ticket.ref} [{ticket.severity}] {ticket.summary}")


def _deadline_fields(
    deadlines: Mapping[str, datetime],
    now: datetime,
    met: Mapping[str, datetime | None] | None = None,
) -> Block:
    fields = []
    for name, due in deadlines.items():
        label = MILESTONE_LABELS.get(name, name)
        done = (met or {}).get(name)
        if done is not None:
            verdict = "in time" if done <= due else "late"
            fields.append(mrkdwn(f"*{label}* :white_check_mark:\n{slack_date(done)} ({verdict})"))
        else:
            fields.append(mrkdwn(f"*{label} by*\n{slack_date(due)} ({time_left(due, now)})"))
    return {"type": "section", "block_id": "deadlines", "fields": fields}


# ----- mentions ----------------------------------------------------------------------------


def report_offer(text: str) -> list[Block]:
    """The reply to a mention: a button that opens the report form with the text."""
    return [
        {
            "type": "section",
            "text": mrkdwn("Shall I open a ticket for this? The form asks a few short questions."),
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": REPORT_THIS_ACTION,
                    "style": "primary",
                    "text": plain("Report this"),
                    "value": text[:2000],
                }
            ],
        },
    ]
