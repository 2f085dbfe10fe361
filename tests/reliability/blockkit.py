"""What Slack would make of a message or view: live control sequences, and Slack's size limits.

``problems(...)`` returns a list of human-readable findings; an empty list means the message is
safe (the only ``<…>`` sequences are the bot's own mentions of known people and channels, and
date tokens) and within every limit Slack enforces.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

MESSAGE_TEXT = 40_000
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3_000
FIELD_TEXT = 2_000
FIELDS = 10
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2_000
LABEL = 2_000
OPTION_TEXT = 75
OPTION_VALUE = 150
TITLE = 24
METADATA = 3_000
ID = 255
INPUT_VALUE = 3_000

_DATE = re.compile(r"<!date\^\d+\^[^|<>]*\|[^<>]*>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)>")
_CHANNEL = re.compile(r"<#([CDG][A-Z0-9]+)>")


def live_sequences(text: str, users: Collection[str], channels: Collection[str]) -> list[str]:
    """Every ``<…>`` in ``text`` that is not one of the bot's own sequences. A ``<`` that no
    ``>`` closes (a bot sequence cut at a length limit) is shown as text by Slack: not live."""
    found = []
    for at in (i for i, ch in enumerate(text) if ch == "<"):
        close, reopen = text.find(">", at), text.find("<", at + 1)
        if close == -1 or (reopen != -1 and reopen < close):
            continue
        if _DATE.match(text, at):
            continue
        user = _USER.match(text, at)
        if user and user.group(1) in users:
            continue
        channel = _CHANNEL.match(text, at)
        if channel and channel.group(1) in channels:
            continue
        found.append(text[at : at + 40])
    return found


class Checker:
    def __init__(self, users: Collection[str], channels: Collection[str]) -> None:
        self.users = users
        self.channels = channels
        self.found: list[str] = []

    def _bad(self, where: str, what: str) -> None:
        self.found.append(f"{where}: {what}")

    def text(self, where: str, obj: Any, limit: int, *, mrkdwn_only: bool = False) -> None:
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            self._bad(where, f"not a text object: {obj!r:.80}")
            return
        kind, text = obj.get("type"), obj["text"]
        if kind not in ("plain_text", "mrkdwn") or (mrkdwn_only and kind != "mrkdwn"):
            self._bad(where, f"text type {kind!r}")
        if not text:
            self._bad(where, "empty text (Slack wants at least 1 character)")
        if len(text) > limit:
            self._bad(where, f"{len(text)} characters > {limit}")
        if kind == "mrkdwn":
            self.mrkdwn(where, text)
            if obj.get("verbatim") is not True:  # Slack's default: bare URLs made links,
                # channel names linked and some mentions parsed, in the user's text too
                self._bad(where, "mrkdwn without verbatim")

    def mrkdwn(self, where: str, text: str) -> None:
        for seq in live_sequences(text, self.users, self.channels):
            self._bad(where, f"live sequence made of user text: {seq!r}")

    def message(self, text: str, blocks: list[dict[str, Any]] | None) -> list[str]:
        self.found = []
        if len(text) > MESSAGE_TEXT:
            self._bad("text", f"{len(text)} characters > {MESSAGE_TEXT}")
        self.mrkdwn("text", text)
        if blocks is not None:
            if len(blocks) > MESSAGE_BLOCKS:
                self._bad("blocks", f"{len(blocks)} blocks > {MESSAGE_BLOCKS}")
            self.blocks(blocks)
        return self.found

    def view(self, view: dict[str, Any]) -> list[str]:
        self.found = []
        blocks = view.get("blocks", [])
        if len(blocks) > VIEW_BLOCKS:
            self._bad("view", f"{len(blocks)} blocks > {VIEW_BLOCKS}")
        if view.get("type") == "modal":
            for key in ("title", "submit", "close"):
                if key in view:
                    self.text(f"view.{key}", view[key], TITLE)
                    if view[key].get("type") != "plain_text":
                        self._bad(f"view.{key}", "must be plain_text")
        if len(str(view.get("private_metadata", ""))) > METADATA:
            self._bad("view.private_metadata", "too long")
        if len(str(view.get("callback_id", ""))) > ID:
            self._bad("view.callback_id", "too long")
        self.blocks(blocks)
        return self.found

    def blocks(self, blocks: list[dict[str, Any]]) -> None:
        for index, block in enumerate(blocks):
            where = f"blocks[{index}]({block.get('type')})"
            if len(str(block.get("block_id", ""))) > ID:
                self._bad(where, "block_id too long")
            kind = block.get("type")
            if kind == "section":
                if "text" in block:
                    self.text(where, block["text"], SECTION_TEXT)
                fields = block.get("fields", [])
                if len(fields) > FIELDS:
                    self._bad(where, f"{len(fields)} fields > {FIELDS}")
                for n, item in enumerate(fields):
                    self.text(f"{where}.fields[{n}]", item, FIELD_TEXT)
                if "text" not in block and not fields:
                    self._bad(where, "a section needs text or fields")
            elif kind == "header":
                self.text(where, block["text"], HEADER_TEXT)
                if block["text"].get("type") != "plain_text":
                    self._bad(where, "a header is plain_text")
            elif kind == "context":
                elements = block.get("elements", [])
                if not 1 <= len(elements) <= CONTEXT_ELEMENTS:
                    self._bad(where, f"{len(elements)} context elements")
                for n, item in enumerate(elements):
                    self.text(f"{where}[{n}]", item, SECTION_TEXT)
            elif kind == "actions":
                elements = block.get("elements", [])
                if not 1 <= len(elements) <= ACTIONS_ELEMENTS:
                    self._bad(where, f"{len(elements)} action elements")
                for n, element in enumerate(elements):
                    self.element(f"{where}[{n}]", element)
            elif kind == "input":
                self.text(f"{where}.label", block["label"], LABEL)
                self.element(f"{where}.element", block["element"])
            elif kind != "divider":
                self._bad(where, f"unexpected block type {kind!r}")

    def element(self, where: str, element: dict[str, Any]) -> None:
        if len(str(element.get("action_id", ""))) > ID:
            self._bad(where, "action_id too long")
        kind = element.get("type")
        if kind == "button":
            self.text(where, element["text"], BUTTON_TEXT)
            if len(str(element.get("value", ""))) > BUTTON_VALUE:
                self._bad(where, "button value too long")
        elif kind == "plain_text_input":
            limit = int(element.get("max_length", INPUT_VALUE))
            if len(str(element.get("initial_value", ""))) > min(limit, INPUT_VALUE):
                self._bad(where, "initial value longer than the input allows")
        for n, option in enumerate(element.get("options", [])):
            self.text(f"{where}.options[{n}]", option["text"], OPTION_TEXT)
            if len(str(option.get("value", ""))) > OPTION_VALUE:
                self._bad(where, "option value too long")
