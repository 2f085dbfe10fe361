"""Errors that carry a message meant for a person, never a traceback.

A person's message is a :class:`Message`: a catalog id (the English text, with
``%(name)s`` placeholders) and its parameters, not yet in any language. The Slack layer
says it in the reader's language (``bot/slack/i18n``); ``str()`` gives the English.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class Message:
    """Text for a person, to be translated where it is shown. Parameters may be Messages
    themselves (translated too) or plain values (shown as they are)."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, /, **params: object) -> None:
        self.msgid = msgid
        self.params: Mapping[str, object] = params

    def __str__(self) -> str:
        if not self.params:
            return self.msgid
        return self.msgid % {k: str(v) for k, v in self.params.items()}

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{dict(self.params)!r})"

    def to_json(self) -> str:
        """The message as stored (e.g. a request's reply, said again on Slack's retry)."""
        return json.dumps(_plain(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Message:
        """A stored message; text stored before messages were (plain text) as it is."""
        try:
            found = json.loads(text)
        except ValueError:
            found = None
        if not isinstance(found, dict) or not isinstance(found.get("msgid"), str):
            return cls("%(text)s", text=text)
        return _built(found)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Message)
            and other.msgid == self.msgid
            and dict(other.params) == dict(self.params)
        )

    def __hash__(self) -> int:
        return hash(self.msgid)


def _plain(message: Message) -> dict[str, Any]:
    params = {
        name: _plain(value) if isinstance(value, Message) else str(value)
        for name, value in message.params.items()
    }
    return {"msgid": message.msgid, "params": params}


def _built(data: dict[str, Any]) -> Message:
    params = {
        name: _built(value) if isinstance(value, dict) else value
        for name, value in dict(data.get("params") or {}).items()
    }
    return Message(data["msgid"], **params)


class ConfigError(Exception):
    """A setting or config key is missing or bad. ``key`` names it, e.g. ``sla.A.respond``."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class UserError(Exception):
    """Bad input from a user: the message says what is wrong and the right form.

    ``UserError("There is no ticket %(ref)s.", ref="#4")``: the first argument is the
    catalog id; ``message`` holds it with its parameters for the reader's language."""

    def __init__(self, msgid: str | Message, /, **params: object) -> None:
        self.message = msgid if isinstance(msgid, Message) else Message(msgid, **params)
        super().__init__(str(self.message))
