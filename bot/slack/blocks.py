"""Block Kit, built from domain objects. Every piece of user text goes through ``escape``.

What a person reads is said by the translator ``tr`` each builder takes (bot.slack.i18n):
the reader's language for what only they see, the workspace's for what a channel shares."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

import regex

from bot.domain.roles import Actor, may
from bot.domain.tickets import Ticket
from bot.domain.workflow import Step, fits
from bot.sla.deadlines import met_in_time
from bot.sla.policy import Severity
from bot.sla.stages import clocks_stopped
from bot.slack.delivered import typed
from bot.slack.i18n import N_, Language, Translator, mention, translator
from bot.slack.ids import Action

Block = dict[str, Any]
View = dict[str, Any]

SEVERITY_EMOJI = {
    Severity.A: ":red_circle:",
    Severity.B: ":large_orange_circle:",
    Severity.C: ":large_yellow_circle:",
    Severity.D: ":white_circle:",
}
# After a deadline that depends on estimated holidays (no official plan for the year yet).
PROVISIONAL_MARK = N_("(provisional)")


def escape(text: str) -> str:
    """User text for mrkdwn: no mentions (<!channel>, <@U…>), no links made of <…|…>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoted(word: str, limit: int = 30) -> str:
    """A word of a command, as Slack delivers it, to quote back between backticks in a
    mrkdwn answer: as typed, cut to ``limit``, then escaped (no backtick to end the quote)."""
    return escaped(typed(word).replace("`", "'"), limit)


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: whole, or cut between two characters as a
    reader sees them (grapheme clusters: an emoji with its modifiers, a letter with its
    accents) and ended with "…"."""
    if len(text) <= limit:
        return text
    kept = 0
    for cluster in regex.finditer(r"\X", text):
        if cluster.end() > limit - 1:
            break
        kept = cluster.end()
    return text[:kept] + "…"


def escaped(text: str, limit: int) -> str:
    """User text for a mrkdwn field of at most ``limit`` characters: cut first (between
    characters), then escaped, so no ``&amp;`` is ever cut in two."""
    result = escape(text)
    if len(result) <= limit:
        return result
    size = 1  # the "…"
    kept = 0
    for cluster in regex.finditer(r"\X", text):
        size += len(escape(cluster.group()))
        if size > limit:
            break
        kept = cluster.end()
    return escape(text[:kept]) + "…"


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    """A plain_text object: Slack shows it as typed (no mrkdwn, no entities), so user text
    goes in unescaped; cut to ``limit``."""
    return {"type": "plain_text", "text": cut(text, limit), "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn object. User text in it is escaped and cut to size by :func:`escaped`; the
    whole is kept under Slack's 3,000 characters without cutting an entity or a token.
    ``verbatim``: Slack would otherwise make links of bare URLs and channel names and parse
    some mentions in what users typed; the bot's own ``<@U…>``, ``<!date^…>`` and
    ``<url|text>`` are written out and still work."""
    return {"type": "mrkdwn", "text": fit_markup(text, 3000), "verbatim": True}


def fit_markup(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = cut(text, limit)[:-1]
    # Do not leave half of an entity (&amp;) or of a token (<@U1>, <!date^…>) at the end.
    amp, semi = head.rfind("&"), head.rfind(";")
    if amp > semi:
        head = head[:amp]
    lt, gt = head.rfind("<"), head.rfind(">")
    if lt > gt:
        head = head[:lt]
    return head + "…"


# ----- the ticket message ------------------------------------------------------------


def ticket_message(
    ticket: Ticket,
    deadlines: Mapping[str, datetime | None],
    now: datetime,
    provisional: Collection[str] = (),
    tr: Translator | None = None,
    *,
    buttons: bool = True,
) -> list[Block]:
    """The ticket's message in the channel: state, class, owner, deadlines (time left,
    overdue once a deadline passed, as at ``now``, or paused: a due of None; ``provisional``:
    the milestones whose deadline depends on estimated holidays), and the buttons that fit
    its state (none without ``buttons``: `/ticket show` has no actions block). ``tr``: the
    workspace's language (English when not given)."""
    tr = tr or translator(Language.EN)
    owner = mention(ticket.assignee_id) if ticket.assignee_id else tr("_unassigned_")
    fields = [
        mrkdwn(tr("*Class*") + f"\n{SEVERITY_EMOJI[ticket.severity]} {ticket.severity}"),
        mrkdwn(tr("*State*") + f"\n{tr.word(ticket.state)}"),
        mrkdwn(tr("*Reporter*") + f"\n{mention(ticket.reporter_id)}"),
        mrkdwn(tr("*Owner*") + f"\n{owner}"),
    ]
    if ticket.system:
        fields.append(mrkdwn(tr("*System*") + f"\n{escaped(ticket.system, 1900)}"))
    if ticket.customer:
        warranty = tr("in warranty") if ticket.in_warranty else tr("out of warranty")
        customer = escaped(ticket.customer, 1800)
        fields.append(mrkdwn(tr("*Customer*") + "\n" + tr.aside(customer, warranty)))
    blocks: list[Block] = [
        # A header is plain text: the summary as typed, not escaped (Slack shows "&amp;").
        {"type": "header", "text": plain(f"{ticket.ref} {ticket.summary}", HEADER_MAX)},
        {"type": "section", "fields": fields},
        {"type": "section", "text": mrkdwn(escaped(ticket.details, 2900))},
    ]
    if deadlines:
        met, fix = ticket.met_at(), ticket.fix_date
        stopped = clocks_stopped(ticket)
        blocks.append(deadline_fields(tr, deadlines, now, met, provisional, fix, stopped=stopped))
    reported = tr("Reported %(when)s", when=tr.date_token(ticket.reported_at))
    blocks.append({"type": "context", "elements": [mrkdwn(reported)]})
    actions = ticket_actions(tr, ticket, now) if buttons else []
    if actions:
        blocks.append({"type": "actions", "block_id": "ticket_actions", "elements": actions})
    return blocks


HEADER_MAX = 150  # Slack's limit of a header block's text
TITLE_MAX = 24  # Slack's limit of a modal's title and of its buttons' texts

# The step each button asks for: the card, the requests and the handlers all read it here,
# and whether a button is offered is asked of the workflow's rules (role and state).
BUTTON_STEPS: dict[Action, Step] = {
    Action.ACK: Step("ack"),
    Action.TAKE: Step("take"),
    Action.RESOLVE: Step("resolve"),
    Action.ESCALATE: Step("escalate"),
    Action.CONFIRM_YES: Step("confirm", rating=5),
    Action.CONFIRM_NO: Step("reject"),
    Action.APPROVE: Step("accept"),
    Action.DECLINE: Step("decline", text="-"),
}
TICKET_BUTTONS = (
    (Action.ACK, N_("Acknowledge"), "primary"),
    (Action.TAKE, N_("Take"), None),
    (Action.RESOLVE, N_("Resolve"), None),
    (Action.ESCALATE, N_("Escalate"), "danger"),
)


def button(label: str, action_id: Action, value: str, style: str | None = None) -> Block:
    found: Block = {"type": "button", "text": plain(label), "action_id": action_id, "value": value}
    if style:
        found["style"] = style
    return found


def ticket_actions(
    tr: Translator, ticket: Ticket, now: datetime, actor: Actor | None = None
) -> list[Block]:
    """Buttons for the common steps that fit the ticket's state at ``now``; for a message to
    one person (``actor``), only those their role may use. The card in a channel is shared:
    someone without the role who presses is refused privately."""
    return [
        button(tr(label), action_id, str(ticket.number), style)
        for action_id, label, style in TICKET_BUTTONS
        if offered(ticket, action_id, now, actor)
    ]


def offered(ticket: Ticket, action_id: Action, now: datetime, actor: Actor | None = None) -> bool:
    """Whether a message offers the button: its step fits the ticket now and, for a message
    to one person, their role may take it (the rules: :mod:`bot.domain.workflow`)."""
    step = BUTTON_STEPS[action_id]
    if actor is not None and not may(ticket, step.verb, actor):
        return False
    return fits(ticket, step, now)


def ticket_fallback_text(ticket: Ticket) -> str:
    return escape(f"{ticket.ref} [{ticket.severity}] {ticket.summary}")


def deadline_fields(
    tr: Translator,
    deadlines: Mapping[str, datetime | None],
    now: datetime,
    met: Mapping[str, datetime | None] | None = None,
    provisional: Collection[str] = (),
    fix_date: date | None = None,
    *,
    stopped: bool = False,
) -> Block:
    """One field per milestone: met (in time or late), due with the time left, or overdue;
    a due of None: its clock is paused while the ticket waits for the customer;
    ``stopped`` (the ticket resolved or closed): one not met says so, without a time left.
    An agreed fix date is shown as that day (``2026-12-02``), not as the instant it ends."""
    fields = []
    for name, due in deadlines.items():
        label = tr.milestone(name)
        done = (met or {}).get(name)
        if done is not None:
            verdict = tr("in time") if met_in_time(done, due) else tr("late")
            fields.append(
                mrkdwn(f"*{label}* :white_check_mark:\n{tr.aside(tr.date_token(done), verdict)}")
            )
            continue
        by = tr("*%(milestone)s by*", milestone=label)
        if due is None:
            fields.append(mrkdwn(by + "\n" + tr("paused while waiting for the customer")))
            continue
        when = fix_date.isoformat() if name == "resolve" and fix_date else tr.date_token(due)
        left = tr.time_left(due, now)
        if stopped:
            fields.append(mrkdwn(by + "\n" + tr.aside(when, tr("not met"))))
        elif due <= now:
            fields.append(mrkdwn(f"{by} :warning:\n{tr.aside(when, left)}"))
        else:
            mark = f" {tr(PROVISIONAL_MARK)}" if name in provisional else ""
            fields.append(mrkdwn(f"{by}{mark}\n{tr.aside(when, left)}"))
    return {"type": "section", "block_id": "deadlines", "fields": fields}


def given_back(headline: str, typed: Sequence[tuple[str, str]]) -> list[Block]:
    """A message about something that could not be done, with what the person typed shown as
    typed (plain text, under its label when it has one), for them to send again."""
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(f":warning: {headline}")}]
    for label, text in typed:
        if label:
            blocks.append({"type": "section", "text": mrkdwn(f"*{escape(label)}*")})
        # whole, in as many sections as Slack's 3,000 characters a section take
        blocks += [{"type": "section", "text": plain(part)} for part in pieces(text, 3000)]
    return blocks


def pieces(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, cut between two characters as a
    reader sees them (nothing dropped, unlike :func:`cut`)."""
    parts: list[str] = []
    start = end = 0
    for cluster in regex.finditer(r"\X", text):
        if cluster.end() - start > limit:
            parts.append(text[start:end])
            start = end
        end = cluster.end()
    if end > start:
        parts.append(text[start:end])
    return parts


# ----- forms --------------------------------------------------------------------------------

LABEL_MAX = 2000  # Slack's limit of an input's label
HINT_MAX = 2000  # Slack's limit of an input's hint


def modal(
    callback_id: str,
    title: str,
    blocks: list[Block],
    *,
    close: str,
    submit: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> View:
    """A modal view; titles and button texts cut to Slack's 24 characters."""
    view: View = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, TITLE_MAX),
        "close": plain(close, TITLE_MAX),
        "blocks": blocks,
    }
    if submit is not None:
        view["submit"] = plain(submit, TITLE_MAX)
    if metadata is not None:
        view["private_metadata"] = json.dumps(dict(metadata))
    return view


def text_input(
    block_id: str,
    label: str,
    *,
    multiline: bool = False,
    max_length: int | None = None,
    initial: str = "",
    optional: bool = False,
    hint: str = "",
) -> Block:
    """A text input (action id ``value``), with a ``hint`` under it. An initial value is cut
    to the input's limit: Slack refuses one over it."""
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": multiline,
    }
    if max_length is not None:
        element["max_length"] = max_length
    if initial:
        element["initial_value"] = initial[: max_length or 3000]
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label, LABEL_MAX),
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint, HINT_MAX)
    return block


def choice_input(
    block_id: str,
    label: str,
    kind: Literal["radio_buttons", "checkboxes"],
    options: Sequence[tuple[str, str]],
    *,
    optional: bool = False,
) -> Block:
    """Radio buttons or checkboxes (action id ``value``) of ``(text, value)`` options."""
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label, LABEL_MAX),
        "element": {
            "type": kind,
            "action_id": "value",
            "options": [{"text": plain(text), "value": value} for text, value in options],
        },
    }
