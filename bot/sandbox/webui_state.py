"""What the page shows one person: a JSON snapshot of the stand-in as that user sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.sandbox.standin import (
    Change,
    EphemeralMessage,
    SlackStandIn,
    StoredMessage,
    StoredView,
)
from bot.sandbox.webui_workspace import DemoWorkspace
from bot.slack.manifest import manifest

JsonDict = dict[str, Any]

# Change kinds that concern one person only (``Change.user`` is that person).
_PERSONAL = {
    "ephemeral",
    "ephemeral_changed",
    "view_opened",
    "view_updated",
    "view_closed",
    "home_published",
    "response_url",
}


@dataclass(frozen=True)
class AppFeatures:
    """What the Slack app declares in its manifest: commands, shortcuts, event subscriptions."""

    commands: tuple[JsonDict, ...]
    shortcuts: tuple[JsonDict, ...]
    events: frozenset[str]
    escape_commands: frozenset[str]


@cache
def app_features() -> AppFeatures:
    data = yaml.safe_load(manifest())
    features = data.get("features", {})
    commands = tuple(
        {
            "command": c["command"],
            "description": c.get("description", ""),
            "usage_hint": c.get("usage_hint", ""),
        }
        for c in features.get("slash_commands", [])
    )
    shortcuts = tuple(
        {"callback_id": s["callback_id"], "name": s["name"], "type": s.get("type", "message")}
        for s in features.get("shortcuts", [])
    )
    events = frozenset(
        data.get("settings", {}).get("event_subscriptions", {}).get("bot_events", [])
    )
    escaped = frozenset(
        c["command"] for c in features.get("slash_commands", []) if c.get("should_escape")
    )
    return AppFeatures(commands, shortcuts, events, escaped)


def is_for(change: Change, user: str, dm_channel: str) -> bool:
    """Whether ``user``'s page needs to look again after ``change``."""
    if change.kind == "call":
        return False
    if change.kind in _PERSONAL:
        return change.user == user
    channel = change.channel or ""
    return not (channel.startswith("D") and channel != dm_channel)


def snapshot(standin: SlackStandIn, workspace: DemoWorkspace, user: str) -> JsonDict:
    """Everything ``user`` can see: conversations, messages, ephemerals, modal, App Home."""
    dm = standin.dm_channel(user)
    channels = [
        {"id": c.id, "name": c.name, "kind": "channel", "private": c.is_private}
        for c in standin.channels.values()
    ]
    conversations: list[JsonDict] = [*channels, {"id": dm, "name": "Escalator", "kind": "im"}]
    visible = {str(c["id"]) for c in conversations}
    messages: dict[str, list[JsonDict]] = {c: [] for c in visible}
    for msg in standin.all_messages():
        if msg.channel in visible:
            messages[msg.channel].append(_message(msg))
    stack = standin.modal_stack(user)
    home = standin.home(user)
    features = app_features()
    return {
        "me": user,
        "team": "Escalator Sandbox",
        "bot": {"id": standin.bot_user_id, "name": "Escalator"},
        "users": [
            {
                "id": u.id,
                "name": u.name,
                "real_name": u.real_name,
                "tz": u.tz,
                "role": workspace.role(u.id),
            }
            for u in workspace.users
        ],
        "channels": channels,
        "conversations": conversations,
        "dm": dm,
        "messages": messages,
        "ephemerals": [_ephemeral(e) for e in standin.ephemerals(user) if e.channel in visible],
        "modal": _view(stack[-1], depth=len(stack)) if stack else None,
        "home": None if home is None else _view(home, depth=0),
        "commands": list(features.commands),
        "shortcuts": list(features.shortcuts),
    }


def _message(msg: StoredMessage) -> JsonDict:
    return {
        "channel": msg.channel,
        "ts": msg.ts,
        "user": msg.user,
        "is_bot": msg.bot_id is not None,
        "text": msg.text,
        "blocks": msg.blocks,
        "attachments": msg.attachments,
        "files": [_file(f) for f in msg.files or ()],
        "thread_ts": msg.thread_ts,
        "reply_broadcast": msg.reply_broadcast,
        "edited": bool(msg.edits),
        "reactions": [{"name": k, "users": v} for k, v in msg.reactions.items()],
    }


def _file(shared: JsonDict) -> JsonDict:
    """A shared file for the page: served by the stand-in on the page's own host."""
    return {
        "name": shared.get("name", ""),
        "title": shared.get("title", ""),
        "mimetype": shared.get("mimetype", ""),
        "url": urlsplit(str(shared.get("url_private", ""))).path,
    }


def _ephemeral(eph: EphemeralMessage) -> JsonDict:
    return {
        "channel": eph.channel,
        "ts": eph.ts,
        "text": eph.text,
        "blocks": eph.blocks,
        "thread_ts": eph.thread_ts,
    }


def _view(stored: StoredView, *, depth: int) -> JsonDict:
    view = stored.view
    return {
        "id": stored.id,
        "hash": stored.hash,
        "type": stored.type,
        "callback_id": stored.callback_id,
        "title": view.get("title"),
        "submit": view.get("submit"),
        "close": view.get("close"),
        "blocks": stored.blocks,
        "errors": stored.errors,
        "state": stored.state_values,
        "depth": depth,
    }


# ---- what a person types, as Slack passes it on ------------------------------------------

_MENTION = re.compile(r"(?<![\w<])@([A-Za-z][\w.-]*)")
_CHANNEL = re.compile(r"(?<![\w<])#([a-z0-9][\w-]*)")


def encode_text(
    text: str,
    standin: SlackStandIn,
    *,
    with_names: bool,
) -> str:
    """Text as Slack delivers it: ``& < >`` escaped, ``@name`` and ``#channel`` as mentions.

    ``with_names`` gives ``<@U…|name>`` (slash commands with should_escape) instead of ``<@U…>``.
    """
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    by_name = {u.name.lower(): u for u in standin.users.values()}

    def user(match: re.Match[str]) -> str:
        word = match.group(1)
        name = word.rstrip(".-").lower()
        rest = word[len(name) :]
        if name == "escalator":
            return f"<@{standin.bot_user_id}>{rest}"
        found = by_name.get(name)
        if found is None:
            return match.group(0)
        return (f"<@{found.id}|{found.name}>" if with_names else f"<@{found.id}>") + rest

    def channel(match: re.Match[str]) -> str:
        name = match.group(1)
        for c in standin.channels.values():
            if c.name == name:
                return f"<#{c.id}|{c.name}>"
        return match.group(0)

    return _CHANNEL.sub(channel, _MENTION.sub(user, out))
