"""Block Kit for reading tickets: show with history, lists, the Home tab (the month's review
is bot/slack/review_blocks.py)."""

from __future__ import annotations

from datetime import datetime

from bot.domain.read_models import HomeData, Listed, TicketView
from bot.slack.blocks import (
    MILESTONE_LABELS,
    SEVERITY_EMOJI,
    Block,
    View,
    escaped,
    mrkdwn,
    plain,
    slack_date,
    ticket_message,
    time_left,
)
from bot.slack.plan_blocks import overdue_lines

MAX_LISTED = 40  # a message holds 50 blocks


def show_blocks(view: TicketView, now: datetime) -> list[Block]:
    blocks = ticket_message(view.ticket, view.deadlines, now, buttons=False)
    t = view.ticket
    facts = [
        ("Cause", t.cause),
        ("Plan", t.plan),
        ("Resolution", t.resolution),
    ]
    for label, value in facts:
        if value:
            blocks.append({"type": "section", "text": mrkdwn(f"*{label}*\n{escaped(value, 2800)}")})
    lines: list[str] = []
    room = 2_900  # a section holds 3,000 characters: keep whole lines, the newest ones
    for event in reversed(view.events):
        line = _event_line(event.at, event.actor_id, event.kind, event.after)
        if len(line) + 1 > room:
            break
        lines.append(line)
        room -= len(line) + 1
    history = "\n".join(reversed(lines))
    blocks.append({"type": "section", "text": mrkdwn(f"*History*\n{history}")})
    return blocks[:50]


def _event_line(at: datetime, actor: str, kind: str, after: dict[str, object]) -> str:
    detail = ""
    if "text" in after:
        detail = f": {escaped(str(after['text']), 200)}"
    elif "severity" in after and kind != "reported":
        detail = f": class {after['severity']}"
    who = f"<@{actor}>" if actor else "Escalator"
    return f"• {slack_date(at)} {who} {kind}{detail}"


def list_blocks(items: list[Listed], now: datetime, title: str) -> list[Block]:
    if not items:
        return [{"type": "section", "text": mrkdwn(f"*{title}*: none.")}]
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(f"*{title}* ({len(items)})")}]
    for item in items[:MAX_LISTED]:
        blocks.append({"type": "section", "text": mrkdwn(listed_line(item, now))})
    if len(items) > MAX_LISTED:
        more = len(items) - MAX_LISTED
        blocks.append({"type": "context", "elements": [mrkdwn(f"…and {more} more")]})
    return blocks


def listed_line(item: Listed, now: datetime) -> str:
    t = item.ticket
    owner = f"<@{t.assignee_id}>" if t.assignee_id else "unassigned"
    due = ""
    if item.next_due:
        name, when = item.next_due
        due = f" · {MILESTONE_LABELS.get(name, name)} {time_left(when, now)}"
    return (
        f"{SEVERITY_EMOJI[t.severity]} *{t.ref}* {escaped(t.summary, 120)} "
        f"· {t.state.value.replace('_', ' ')} · {owner}{due}"
    )


def home_view(data: HomeData, now: datetime) -> View:
    current, upcoming = data.on_call
    blocks: list[Block] = [
        {"type": "header", "text": plain("Escalator")},
        {
            "type": "section",
            "text": mrkdwn(
                f"*On call now*: {_who(current.primary)} (secondary {_who(current.secondary)}) "
                f"until {slack_date(current.until)}\n*Next*: {_who(upcoming.primary)}"
            ),
        },
        {"type": "divider"},
    ]
    if data.overdue_plan:
        blocks += overdue_lines(data.overdue_plan)
        blocks.append({"type": "divider"})
    blocks += list_blocks(data.mine, now, "Your open tickets")[:20]
    if data.team is not None:
        blocks.append({"type": "divider"})
        blocks += list_blocks(data.team, now, "All open tickets, by time left")[:25]
    return {"type": "home", "blocks": blocks[:100]}


def _who(user: str | None) -> str:
    return f"<@{user}>" if user else "nobody"
