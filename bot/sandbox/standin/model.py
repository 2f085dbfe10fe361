"""Plain records kept by the Slack stand-in: people, conversations, messages, views, calls."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

JsonDict = dict[str, Any]


class StandInError(Exception):
    """A test or the sandbox page asked the stand-in for something that cannot happen in Slack."""


@dataclass(frozen=True)
class StandInUser:
    id: str
    name: str
    real_name: str
    tz: str = "Asia/Shanghai"
    email: str | None = None
    locale: str = "en-US"  # the language the person set in Slack (users.info include_locale)


@dataclass(frozen=True)
class StandInChannel:
    id: str
    name: str
    is_private: bool = False


@dataclass
class RecordedCall:
    """One Web API call as it arrived (token removed from ``params``)."""

    method: str
    params: JsonDict
    time: float
    fault: str | None = None
    status: int = 200
    response: JsonDict | None = None
    connection: str = ""  # the caller's address and port: calls on one kept connection share it

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.get("ok") is True


@dataclass(frozen=True)
class MessageEdit:
    """Content applied by one ``chat.update`` (or a ``replace_original`` response)."""

    time: float
    text: str
    blocks: list[JsonDict] | None


@dataclass
class StoredMessage:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[JsonDict] | None = None
    attachments: list[JsonDict] | None = None
    thread_ts: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    metadata: JsonDict | None = None
    reply_broadcast: bool = False
    files: list[JsonDict] | None = None  # shared by files.completeUploadExternal
    edits: list[MessageEdit] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    deleted: bool = False

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def as_slack(self, team_id: str) -> JsonDict:
        """The message object as Slack's Web API shows it."""
        out: JsonDict = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        out["team"] = team_id
        if self.bot_id is not None:
            out["bot_id"] = self.bot_id
            out["app_id"] = self.app_id
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.attachments is not None:
            out["attachments"] = self.attachments
        if self.files is not None:
            out["files"] = self.files
            out["upload"] = True
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if self.metadata is not None:
            out["metadata"] = self.metadata
        if self.edits:
            out["edited"] = {"user": self.user, "ts": _float_ts(self.edits[-1].time)}
        if self.reactions:
            out["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in self.reactions.items()
            ]
        return out


@dataclass
class EphemeralMessage:
    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JsonDict] | None = None
    thread_ts: str | None = None
    source: str = "chat.postEphemeral"
    deleted: bool = False
    edits: list[MessageEdit] = field(default_factory=list)


ViewStatus = Literal["open", "closed", "published"]


@dataclass
class StoredView:
    """A modal or App Home view. ``view`` is what the app sent; the rest is Slack's bookkeeping."""

    id: str
    user: str
    type: str
    view: JsonDict
    hash: str
    team_id: str
    app_id: str
    bot_id: str
    external_id: str | None = None
    root_view_id: str | None = None
    previous_view_id: str | None = None
    state_values: dict[str, dict[str, JsonDict]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    status: ViewStatus = "open"
    history: list[JsonDict] = field(default_factory=list)

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata") or "")

    @property
    def blocks(self) -> list[JsonDict]:
        blocks = self.view.get("blocks")
        return list(blocks) if isinstance(blocks, list) else []

    def as_slack(self) -> JsonDict:
        """The view object as ``views.open`` and interaction payloads show it."""
        v = self.view
        out: JsonDict = {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": self.blocks,
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": {"values": self.state_values},
            "hash": self.hash,
            "title": v.get("title"),
            "clear_on_close": bool(v.get("clear_on_close", False)),
            "notify_on_close": bool(v.get("notify_on_close", False)),
            "close": v.get("close"),
            "submit": v.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id or self.id,
            "app_id": self.app_id,
            "external_id": self.external_id or "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if self.type == "home":
            out.pop("submit")
            out.pop("clear_on_close")
            out.pop("notify_on_close")
        return out


@dataclass
class ResponseUrlPost:
    """What the app posted to a ``response_url``."""

    response_id: str
    body: JsonDict
    time: float


@dataclass
class ResponseTarget:
    """Where a ``response_url`` points: the interaction that issued it."""

    user: str
    channel: str
    message_ts: str | None = None
    is_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0


ChangeKind = Literal[
    "call",
    "message",
    "message_changed",
    "message_deleted",
    "ephemeral",
    "ephemeral_changed",
    "reaction",
    "view_opened",
    "view_updated",
    "view_closed",
    "home_published",
    "response_url",
]


@dataclass(frozen=True)
class Change:
    """One change to the stand-in's state, for listeners (e.g. a page streaming updates)."""

    kind: ChangeKind
    channel: str | None = None
    ts: str | None = None
    user: str | None = None
    view_id: str | None = None

    def as_dict(self) -> JsonDict:
        return {
            "kind": self.kind,
            "channel": self.channel,
            "ts": self.ts,
            "user": self.user,
            "view_id": self.view_id,
        }


@dataclass(frozen=True)
class SentRequest:
    """A signed request the stand-in sent to the app, and the app's answer (its ack)."""

    status: int
    body: str
    headers: Mapping[str, str]
    payload: JsonDict
    raw_body: str
    content_type: str

    @property
    def json(self) -> Any:
        """The answer parsed as JSON, or None when it is empty or not JSON."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def _float_ts(seconds: float) -> str:
    micros = round(seconds * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def format_ts(micros: int) -> str:
    """A Slack timestamp string such as ``1700000000.000100`` from microseconds."""
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
