"""The report form and the offer to report a mention: the triage questions asked one at a time
(SPEC §4), the answer while the report is stored, and the confirmation with its deadlines."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain.tickets import DETAILS_MAX, SUMMARY_MAX, ReportDraft, Ticket, TicketState
from bot.domain.triage import QUESTIONS, Question, classify
from bot.slack.blocks import (
    SEVERITY_EMOJI,
    Block,
    View,
    cut,
    deadline_fields,
    given_back,
    modal,
    mrkdwn,
    plain,
    text_input,
)
from bot.slack.i18n import Translator, channel_link
from bot.slack.ids import Action, Callback
from bot.slack.triage_text import meaning, question_text

SUMMARY_BLOCK = "summary"  # the summary input dispatches its value (action_id "value")
# In the form's metadata: how long the message it was opened on was, when the details could
# not hold all of it (they hold its beginning, and the reporter is told).
CUT_FROM = "cut_from"


# ----- the report modal ---------------------------------------------------------------


def report_modal(
    tr: Translator,
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
    summary_input = text_input("summary", tr("Summary"), initial=summary)
    summary_input["dispatch_action"] = True
    summary_input["element"]["dispatch_action_config"] = {
        "trigger_actions_on": ["on_enter_pressed", "on_character_entered"]
    }
    blocks: list[Block] = [
        summary_input,
        *under_summary,
        text_input(
            "details",
            tr("What happened?"),
            multiline=True,
            initial=details,
            hint=_cut_hint(tr, (metadata or {}).get(CUT_FROM)),
        ),
        text_input("system", tr("Affected system"), initial=system, optional=True),
        {"type": "divider"},
    ]
    for index, question in enumerate(QUESTIONS[: len(answers) + 1]):
        answer = answers[index] if index < len(answers) else None
        blocks.append(_question_block(tr, question, answer))
        if answer:
            break
    severity = classify(answers)
    if severity is not None:
        blocks.append(
            {
                "type": "section",
                "block_id": "triage_result",
                "text": mrkdwn(
                    f"{SEVERITY_EMOJI[severity]} "
                    + tr(
                        "*Class %(severity)s*: %(meaning)s",
                        severity=severity.value,
                        meaning=meaning(tr, severity),
                    )
                ),
            }
        )
    return modal(
        Callback.REPORT,
        tr("Report a problem"),
        blocks,
        submit=tr("Open ticket"),
        close=tr("Cancel"),
        metadata=metadata or {},
    )


def _cut_hint(tr: Translator, cut_from: object) -> str:
    if not isinstance(cut_from, int):
        return ""
    return tr(
        "The message has %(n)s characters, more than the form holds: the details keep its "
        "first %(limit)s.",
        n=cut_from,
        limit=DETAILS_MAX,
    )


def question_block_id(question: Question) -> str:
    return f"triage_{question.key}"


def _question_block(tr: Translator, question: Question, answer: bool | None) -> Block:
    options = [
        {"text": plain(tr("Yes")), "value": "yes"},
        {"text": plain(tr("No")), "value": "no"},
    ]
    element: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": Action.TRIAGE,
        "options": options,
    }
    if answer is not None:
        element["initial_option"] = options[0] if answer else options[1]
    return {
        "type": "input",
        "block_id": question_block_id(question),
        "dispatch_action": True,
        "label": plain(question_text(tr, question), 2000),
        "element": element,
    }


def report_pending(tr: Translator) -> View:
    """The answer when storing the report takes longer than Slack waits."""
    saving = tr(
        "Your report is being saved. You will get its ticket number by direct message in a moment."
    )
    return modal(
        Callback.REPORT_PENDING,
        tr("Report a problem"),
        [{"type": "section", "text": mrkdwn(saving)}],
        close=tr("Close"),
    )


def report_not_opened(tr: Translator, typed: str) -> list[Block]:
    """The answer to `/report …` when Slack would not open the form (it answered too late, or
    not at all): the command as typed, to send again."""
    headline = tr("The report form could not be opened. Please try again.")
    return given_back(headline, [("", f"/report {typed}".rstrip())])


def report_not_stored(tr: Translator, draft: ReportDraft, *, stopped: bool = False) -> list[Block]:
    """The direct message when a report could not be stored while the database was away
    (``stopped``: the service stopped while it waited for the database): what the reporter
    wrote, shown as typed, to send again."""
    if stopped:
        headline = tr(
            "Your report could not be saved before the service stopped (the database was "
            "unavailable), and no ticket was opened. Here is what you wrote; please send it "
            "again with /report."
        )
    else:
        headline = tr(
            "Your report could not be saved: the database was unavailable for too long, and no "
            "ticket was opened. Here is what you wrote; please send it again with /report."
        )
    fields = [
        (tr("Summary"), draft.summary),
        (tr("What happened?"), draft.details),
        (tr("Affected system"), draft.system),
    ]
    return given_back(headline, [(label, text) for label, text in fields if text])


def report_confirmation(
    tr: Translator,
    ticket: Ticket,
    deadlines: Mapping[str, datetime],
    now: datetime,
    provisional: Collection[str] = (),
) -> View:
    text = f"{SEVERITY_EMOJI[ticket.severity]} " + tr(
        "Ticket *%(ref)s* is open, *class %(severity)s*: %(meaning)s.\n"
        "It is posted in %(channel)s; the thread there tells its story.",
        ref=ticket.ref,
        severity=ticket.severity.value,
        meaning=meaning(tr, ticket.severity),
        channel=channel_link(ticket.post_channel),
    )
    if ticket.state is TicketState.AWAITING_APPROVAL:
        text += "\n" + tr(
            "It is an out-of-warranty request: a manager first accepts or declines it (by the "
            "respond deadline below), and you will be told which."
        )
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(text)}]
    if deadlines:
        blocks.append(deadline_fields(tr, deadlines, now, provisional=provisional))
    return modal(
        Callback.REPORT_DONE, tr("Ticket %(ref)s", ref=ticket.ref), blocks, close=tr("Done")
    )


# ----- mentions ----------------------------------------------------------------------------


def report_offer(tr: Translator, key: str) -> list[Block]:
    """The reply to a mention: a button that opens the report form with the mention's text
    (kept by the bot under ``key``: a button's value holds 2,000 characters at most)."""
    return [
        {
            "type": "section",
            "text": mrkdwn(
                tr("Shall I open a ticket for this? The form asks a few short questions.")
            ),
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": Action.REPORT_THIS,
                    "style": "primary",
                    "text": plain(tr("Report this")),
                    "value": key,
                }
            ],
        },
    ]


def report_offer_used(tr: Translator, ticket: Ticket) -> str:
    """What the offer says once the report it offered is a ticket."""
    return ":white_check_mark: " + tr(
        "Reported as %(ref)s. Follow it in %(channel)s.",
        ref=ticket.ref,
        channel=channel_link(ticket.post_channel),
    )


def report_from_command(text: str) -> tuple[str, str]:
    """A report form's summary and details from `/report [summary]`: the text as the summary
    when it fits one (one line, at most SUMMARY_MAX characters); a longer text as from a
    message (:func:`report_from_text`), so that nothing typed is cut off or refused."""
    text = text.strip()
    if "\n" not in text and len(text) <= SUMMARY_MAX:
        return text, ""
    return report_from_text(text)


def files_line(tr: Translator, files: Sequence[Mapping[str, Any]]) -> str:
    """The files shared with a reported message, by name and link, for its details."""
    named = [
        " ".join(
            str(part) for part in (f.get("title") or f.get("name"), f.get("permalink")) if part
        )
        for f in files
    ]
    named = [name for name in named if name]
    return tr("Files: %(files)s", files=", ".join(named)) if named else ""


def report_from_text(text: str) -> tuple[str, str]:
    """A report form's summary and details from a message: the first line, cut to fit the
    summary, and the whole text, cut to fit the details (see :data:`CUT_FROM`)."""
    first = next((line.strip() for line in text.strip().splitlines() if line.strip()), "")
    return cut(first, SUMMARY_MAX), cut(text.strip(), DETAILS_MAX)
