"""Reading the text Slack delivers (a slash command's text, a mention, the message a shortcut
was used on) back into what the person typed."""

from __future__ import annotations

from collections.abc import Mapping

import regex

# Slack's own tokens in the text it delivers: <@U…|name>, <#C…|name>, <!here>, <url|text>.
_TOKEN = regex.compile(r"<([^<>]*)>")
_SPECIAL = frozenset({"here", "channel", "everyone"})


_PERSON = regex.compile(r"<@([UW][A-Z0-9]+)>")  # a mention without the name (a message's)


def unnamed_people(text: str) -> list[str]:
    """The people a delivered text mentions by id alone (a message's mentions: ``<@U…>``),
    whose names :func:`typed` is to be given, in order, once each."""
    return list(dict.fromkeys(_PERSON.findall(text)))


def typed(text: str, names: Mapping[str, str] | None = None) -> str:
    """What a person typed, from the text Slack delivers of it (a slash command's text, a
    mention, a message a shortcut was used on): there ``&``, ``<`` and ``>`` come as
    entities, and mentions, channels and links as ``<…>`` tokens. A mention comes back as
    ``@name`` (a message's come without the name: ``names`` by id, else the id), a channel
    as ``#name``, a link as the text it was made of, so it is stored as typed and shown as
    text (``bot.slack.blocks.escape`` in mrkdwn, unchanged in plain text). Text from a
    form's inputs comes as typed and needs none of this."""
    known = names or {}

    def token(match: regex.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target[:2] in ("@U", "@W"):
            return f"@{label or known.get(target[1:]) or target[1:]}"
        if target.startswith("#C"):
            return f"#{label or target[1:]}"
        if target.startswith("!"):
            name = target[1:].partition("^")[0]
            return f"@{name}" if name in _SPECIAL or not label else label
        return label or target  # a link Slack made of what was typed

    return _TOKEN.sub(token, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def without_me(text: str, bot_user_id: str | None) -> str:
    """A mention's text without the mentions of the bot itself (others stay, as Slack sent
    them, for a step's @mention or a note's words). Not knowing its own id, the bot takes
    the leading mention for its own (an app_mention's usual first word)."""
    me = regex.escape(bot_user_id) if bot_user_id else None
    if me is None:
        return regex.sub(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>", "", text).strip()
    return regex.sub(rf"<@{me}(?:\|[^>]*)?>", "", text).strip()
