"""What ``/oncall`` answers: who is on call now and next, and an override taken."""

from __future__ import annotations

from datetime import datetime

from bot.domain.rotation import OnCall
from bot.slack.i18n import Translator, mention


def _who(tr: Translator, user: str | None) -> str:
    return f"<@{user}>" if user else tr("nobody")


def oncall_answer(tr: Translator, current: OnCall, following: OnCall) -> str:
    """Who is on call now (and whether by an override) and who is next."""
    now_line = tr(
        "*On call now*: primary %(primary)s, secondary %(secondary)s, until %(until)s",
        primary=_who(tr, current.primary),
        secondary=_who(tr, current.secondary),
        until=tr.date_token(current.until),
    )
    if current.override:
        now_line = tr(
            "*On call now*: primary %(primary)s (override), secondary %(secondary)s, "
            "until %(until)s",
            primary=_who(tr, current.primary),
            secondary=_who(tr, current.secondary),
            until=tr.date_token(current.until),
        )
    next_line = tr(
        "*Next*: primary %(primary)s, secondary %(secondary)s, from %(since)s",
        primary=_who(tr, following.primary),
        secondary=_who(tr, following.secondary),
        since=tr.date_token(following.since),
    )
    return f"{now_line}\n{next_line}"


def override_taken(tr: Translator, user: str, until: datetime) -> str:
    return tr(
        "%(user)s is the on-call primary until %(until)s.",
        user=mention(user),
        until=tr.date_token(until),
    )
