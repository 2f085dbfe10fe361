"""The story of a ticket in its thread: one line per step, user text escaped."""

from __future__ import annotations

from bot.domain.workflow import Change
from bot.sla.policy import SIGNOFF_WAIT_DAYS
from bot.slack.blocks import escaped
from bot.slack.i18n import N_, Translator, mention

STORY_TEXT_MAX = 2_900  # characters of user text quoted in one thread line; the record keeps all


def quote(text: str) -> str:
    """User text for a thread line: cut to a length that fits a message (between two
    characters, never inside an entity), and escaped."""
    return escaped(text, STORY_TEXT_MAX)


def story_line(tr: Translator, change: Change, actor_id: str) -> str:
    """The thread line for a step (``<@U…>`` mentions made by the bot stay live)."""
    t = change.ticket
    who = f"<@{actor_id}>" if actor_id else "Escalator"
    ref = t.ref
    text = quote(str(change.after.get("text", "")))
    kind = change.kind
    if kind == "ack":
        return tr("%(who)s acknowledged %(ref)s.", who=who, ref=ref)
    if kind == "take":
        return tr("%(who)s took %(ref)s.", who=who, ref=ref)
    if kind == "assign":
        return tr(
            "%(who)s assigned %(ref)s to %(owner)s.", who=who, ref=ref, owner=mention(t.assignee_id)
        )
    if kind == "cause":
        return tr(
            "%(who)s identified the cause of %(ref)s: %(text)s",
            who=who,
            ref=ref,
            text=quote(t.cause),
        )
    if kind == "plan":
        if t.fix_date:
            return tr(
                "%(who)s gave the plan for %(ref)s: %(text)s (agreed fix date %(date)s)",
                who=who,
                ref=ref,
                text=quote(t.plan),
                date=t.fix_date.isoformat(),
            )
        return tr(
            "%(who)s gave the plan for %(ref)s: %(text)s", who=who, ref=ref, text=quote(t.plan)
        )
    if kind == "resolve":
        return tr("%(who)s resolved %(ref)s: %(text)s", who=who, ref=ref, text=quote(t.resolution))
    if kind == "severity":
        return tr(
            "%(who)s changed %(ref)s from class %(before)s to class %(after)s: %(text)s",
            who=who,
            ref=ref,
            before=str(change.before.get("severity")),
            after=t.severity.value,
            text=text,
        )
    if kind == "decline":
        reason = quote(str(t.extra.get("declined_reason", "")))
        return tr(
            "%(who)s declined %(ref)s (out of warranty): %(text)s", who=who, ref=ref, text=reason
        )
    if kind == "note":
        return tr("%(who)s noted on %(ref)s: %(text)s", who=who, ref=ref, text=text)
    if kind == "confirm":
        if t.rating_comment:
            return tr(
                "%(who)s confirmed the fix of %(ref)s and rated it %(rating)s/5: %(text)s",
                who=who,
                ref=ref,
                rating=t.rating,
                text=quote(t.rating_comment),
            )
        return tr(
            "%(who)s confirmed the fix of %(ref)s and rated it %(rating)s/5.",
            who=who,
            ref=ref,
            rating=t.rating,
        )
    if kind == "autoclose":
        return tr.plural(
            "%(ref)s closed by itself: no answer from the reporter in %(n)d working day.",
            "%(ref)s closed by itself: no answer from the reporter in %(n)d working days.",
            SIGNOFF_WAIT_DAYS,
            ref=ref,
        )
    simple = {
        "wait": N_("%(who)s put %(ref)s on hold, waiting for the customer."),
        "resume": N_("%(who)s resumed %(ref)s."),
        "accept": N_("%(who)s accepted %(ref)s (out of warranty)."),
        "close": N_("%(who)s closed %(ref)s."),
        "reopen": N_("%(who)s reopened %(ref)s."),
        "escalate": N_("%(who)s escalated %(ref)s to the managers."),
        "reject": N_("%(who)s says %(ref)s is not fixed; it is open again."),
    }
    return tr(simple[kind], who=who, ref=ref)
