"""Cutting user text to Slack's limits: counted in characters as Slack counts them (code
points: a Chinese character is one, as a Latin letter is), never inside a character made
of several code points (a base and its combining marks, emoji joined by ZWJ, a flag)."""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
_ZWJ = "\u200d"


def _joins(before: str, after: str) -> bool:
    """True when ``after`` belongs to the same visible character as ``before``."""
    if after == _ZWJ or before == _ZWJ:
        return True
    if unicodedata.combining(after) or "\ufe00" <= after <= "\ufe0f":
        return True
    return "\U0001f3fb" <= after <= "\U0001f3ff"  # skin tone modifiers


def cut(text: str, limit: int) -> str:
    """``text`` when it fits in ``limit`` characters, else its start and ``…`` within it,
    cut between two whole characters."""
    if len(text) <= limit:
        return text
    end = max(limit - len(ELLIPSIS), 0)
    while 0 < end < len(text) and _joins(text[end - 1], text[end]):
        end -= 1
    if end > 0 and "\U0001f1e6" <= text[end - 1] <= "\U0001f1ff":
        # a flag is a pair of regional indicators: count them from the start of the run
        run = end
        while run > 0 and "\U0001f1e6" <= text[run - 1] <= "\U0001f1ff":
            run -= 1
        if (end - run) % 2:
            end -= 1
    return text[:end] + ELLIPSIS
