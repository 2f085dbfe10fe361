"""Finding English left in a Chinese text: what is not ours to translate is taken out first
(mentions, date tokens, channel links, emoji, code in backticks, ticket refs, class letters,
the product's name and the standard's number)."""

from __future__ import annotations

import re

_NOT_WORDS = [
    re.compile(r"<[@#!][^>]*>"),  # <@U0ENG1>, <#C0SUPPORT>, <!date^…|2026-11-23 10:00>
    re.compile(r":[a-z0-9_+-]+:"),  # :floppy_disk:
    re.compile(r"`[^`]*`"),  # commands and what the user typed, quoted as code
    re.compile(r"#\d+"),
    re.compile(r"<https?://[^>]*>"),  # a link the bot made (a ticket message's permalink)
    re.compile(r"\bKB-\d+\b"),  # a knowledge-base article's ref
    re.compile(
        r"\b(?:Escalator|Slack|HTTP|JZB10-2008|YYYY-MM-DD|YYYY-MM|ISO 8601|SQLite|PostgreSQL)\b"
    ),
    re.compile(r"\b(?:UTF-8|YAML)\b"),  # the knowledge-base files' encoding and front matter
    re.compile(r"\b(?:pg_dump|sandbox|[0-9]+(?:m|h|d|s|mo|w))\b"),
]
_WORD = re.compile(r"[A-Za-z]{2,}")


def english_words(text: str) -> list[str]:
    """The Latin words of ``text`` a Chinese reader would have to read as English."""
    for pattern in _NOT_WORDS:
        text = pattern.sub(" ", text)
    return _WORD.findall(text)


def texts_of(blocks: object) -> list[str]:
    """Every text a person reads in Block Kit (``text`` of text objects, nested)."""
    found: list[str] = []
    if isinstance(blocks, dict):
        if blocks.get("type") in ("mrkdwn", "plain_text") and isinstance(blocks.get("text"), str):
            found.append(blocks["text"])
        for key, value in blocks.items():
            if key not in ("action_id", "block_id", "value", "callback_id", "url"):
                found += texts_of(value)
    elif isinstance(blocks, list):
        for item in blocks:
            found += texts_of(item)
    return found
