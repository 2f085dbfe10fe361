"""Block Kit for reading tickets: show with history, lists, the Home tab (the month's review
is bot/slack/review_blocks.py).

Each builder takes the reader's translator ``tr``."""

from __future__ import annotations

from datetime import datetime

from bot.domain.read_models import EventView, HomeData, Listed, TicketView
from bot.slack.blocks import (
    SEVERITY_EMOJI,
    Block,
    View,
    escaped,
    mrkdwn,
    plain,
    ticket_message,
)
from bot.slack.i18n import N_, Translator
from bot.slack.plan_blocks import overdue_lines

MAX_LISTED = 40  # a message holds 50 blocks


# What each kind of event in a ticket's record is called in its history.
EVENT_WORDS = {
    "reported": N_("reported"),
    "ack": N_("acknowledged"),
    "take": N_("took it"),
    "assign": N_("assigned it"),
    "cause": N_("recorded the cause"),
    "plan": N_("gave the plan"),
    "resolve": N_("resolved it"),
    "wait": N_("put it on hold"),
    "resume": N_("resumed it"),
    "severity": N_("changed the class"),
    "accept": N_("accepted it"),
    "decline": N_("declined it"),
    "note": N_("added a note"),
    "close": N_("closed it"),
    "reopen": N_("reopened it"),
    "escalate": N_("escalated it"),
    "confirm": N_("confirmed the fix"),
    "reject": N_("said it is not fixed"),
    "autoclose": N_("closed by itself"),
}


def show_blocks(view: TicketView, now: datetime, tr: Translator) -> list[Block]:
    blocks = ticket_message(view.ticket, view.deadlines, now, tr=tr, buttons=False)
    t = view.ticket
    facts = [
        (tr("Cause"), t.cause),
        (tr("Plan"), t.plan),
        (tr("Resolution"), t.resolution),
    ]
    for label, value in facts:
        if value:
            blocks.append({"type": "section", "text": mrkdwn(f"*{label}*\n{escaped(value, 2800)}")})
    lines: list[str] = []
    room = 2_900  # a section holds 3,000 characters: keep whole lines, the newest ones
    earlier = view.earlier
    for event in reversed(view.events):
        line = _event_line(tr, event)
        if len(line) + 1 > room:
            earlier = True
            break
        lines.append(line)
        room -= len(line) + 1
    history = "\n".join(reversed(lines))
    title = tr("History")
    blocks.append({"type": "section", "text": mrkdwn(f"*{title}*\n{history}")})
    if earlier:
        older = tr("Older events are in the ticket's thread.")
        blocks.append({"type": "context", "elements": [mrkdwn(older)]})
    return blocks[:50]


def _event_line(tr: Translator, event: EventView) -> str:
    detail = ""
    if event.text is not None:
        detail = f": {escaped(event.text, 200)}"
    elif event.severity is not None and event.kind != "reported":
        detail = ": " + tr("class %(severity)s", severity=event.severity)
    who = f"<@{event.actor_id}>" if event.actor_id else "Escalator"
    did = tr(EVENT_WORDS[event.kind]) if event.kind in EVENT_WORDS else event.kind
    return f"• {tr.date_token(event.at)} {who} {did}{detail}"


def list_blocks(
    tr: Translator, items: list[Listed], now: datetime, title: str, total: int | None = None
) -> list[Block]:
    """The list's first :data:`MAX_LISTED` items; ``total``: how many it holds in all (when
    ``items`` holds only the first of them)."""
    count = len(items) if total is None else max(total, len(items))
    if not count:
        return [{"type": "section", "text": mrkdwn(tr("*%(title)s*: none.", title=title))}]
    blocks: list[Block] = [
        {"type": "section", "text": mrkdwn(tr("*%(title)s* (%(n)d)", title=title, n=count))}
    ]
    for item in items[:MAX_LISTED]:
        blocks.append({"type": "section", "text": mrkdwn(listed_line(tr, item, now))})
    if count > MAX_LISTED:
        more = count - MAX_LISTED
        text = tr.plural("…and %(n)d more ticket", "…and %(n)d more tickets", more)
        blocks.append({"type": "context", "elements": [mrkdwn(text)]})
    return blocks


def listed_line(tr: Translator, item: Listed, now: datetime) -> str:
    t = item.ticket
    owner = f"<@{t.assignee_id}>" if t.assignee_id else tr("unassigned")
    due = ""
    if item.next_due:
        name, when = item.next_due
        due = f" · {tr.milestone(name)} {tr.time_left(when, now)}"
    return (
        f"{SEVERITY_EMOJI[t.severity]} *{t.ref}* {escaped(t.summary, 120)} "
        f"· {tr.word(t.state)} · {owner}{due}"
    )


def home_view(tr: Translator, data: HomeData, now: datetime) -> View:
    current, upcoming = data.on_call
    on_call = tr(
        "*On call now*: %(primary)s (secondary %(secondary)s) until %(until)s\n*Next*: %(next)s",
        primary=_who(tr, current.primary),
        secondary=_who(tr, current.secondary),
        until=tr.date_token(current.until),
        next=_who(tr, upcoming.primary),
    )
    blocks: list[Block] = [
        {"type": "header", "text": plain("Escalator")},
        {"type": "section", "text": mrkdwn(on_call)},
        {"type": "divider"},
    ]
    if data.overdue_plan:
        blocks += overdue_lines(tr, data.overdue_plan)
        blocks.append({"type": "divider"})
    blocks += list_blocks(tr, data.mine, now, tr("Your open tickets"), data.mine_total)[:20]
    if data.team is not None:
        blocks.append({"type": "divider"})
        team_title = tr("All open tickets, by time left")
        blocks += list_blocks(tr, data.team, now, team_title, data.team_total)[:25]
    return {"type": "home", "blocks": blocks[:100]}


def _who(tr: Translator, user: str | None) -> str:
    return f"<@{user}>" if user else tr("nobody")
