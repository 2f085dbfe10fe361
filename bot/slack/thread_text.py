"""The story of a ticket in its thread: one line per step, user text escaped."""

from __future__ import annotations

from bot.domain.workflow import Change
from bot.sla.policy import SIGNOFF_WAIT_DAYS
from bot.slack.blocks import escaped

STORY_TEXT_MAX = 2_900  # characters of user text quoted in one thread line; the record keeps all


def quote(text: str) -> str:
    """User text for a thread line: cut to a length that fits a message (between two
    characters, never inside an entity), and escaped."""
    return escaped(text, STORY_TEXT_MAX)


def story_line(change: Change, actor_id: str) -> str:
    """The thread line for a step (``<@U…>`` mentions made by the bot stay live)."""
    t = change.ticket
    who = f"<@{actor_id}>" if actor_id else "Escalator"
    text = quote(str(change.after.get("text", "")))
    lines = {
        "ack": f"{who} acknowledged {t.ref}.",
        "take": f"{who} took {t.ref}.",
        "assign": f"{who} assigned {t.ref} to <@{t.assignee_id}>.",
        "cause": f"{who} identified the cause of {t.ref}: {quote(t.cause)}",
        "plan": f"{who} gave the plan for {t.ref}: {quote(t.plan)}"
        + (f" (agreed fix date {t.fix_date.isoformat()})" if t.fix_date else ""),
        "resolve": f"{who} resolved {t.ref}: {quote(t.resolution)}",
        "wait": f"{who} put {t.ref} on hold, waiting for the customer.",
        "resume": f"{who} resumed {t.ref}.",
        "severity": f"{who} changed {t.ref} from class {change.before.get('severity')} to "
        f"class {t.severity}: {text}",
        "accept": f"{who} accepted {t.ref} (out of warranty).",
        "decline": f"{who} declined {t.ref} (out of warranty): "
        f"{quote(str(t.extra.get('declined_reason', '')))}",
        "note": f"{who} noted on {t.ref}: {text}",
        "close": f"{who} closed {t.ref}.",
        "reopen": f"{who} reopened {t.ref}.",
        "escalate": f"{who} escalated {t.ref} to the managers.",
        "confirm": f"{who} confirmed the fix of {t.ref} and rated it {t.rating}/5"
        + (f": {quote(t.rating_comment)}" if t.rating_comment else "."),
        "reject": f"{who} says {t.ref} is not fixed; it is open again.",
        "autoclose": f"{t.ref} closed by itself: no answer from the reporter in "
        f"{SIGNOFF_WAIT_DAYS} working days.",
    }
    return lines[change.kind]
