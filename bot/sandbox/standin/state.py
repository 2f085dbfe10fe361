"""The stand-in's workspace: people, conversations, messages, calls, and who is told of changes."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.sandbox.standin.limits import ApiError
from bot.sandbox.standin.model import (
    Change,
    EphemeralMessage,
    JsonDict,
    MessageEdit,
    RecordedCall,
    ResponseTarget,
    ResponseUrlPost,
    StandInChannel,
    StandInUser,
    StoredMessage,
    format_ts,
)

T = TypeVar("T")
Listener = Callable[[Change], None]


@dataclass
class Trigger:
    id: str
    user: str
    issued_at: float
    used: bool = False


class Workspace:
    """Everything the stand-in knows. Single event loop; no locking needed."""

    def __init__(
        self,
        *,
        users: Sequence[StandInUser],
        channels: Sequence[StandInChannel],
        bot_user_id: str,
        bot_id: str,
        bot_name: str,
        team_id: str,
        team_domain: str,
        app_id: str,
        now: Callable[[], float],
        trigger_ttl: float,
    ) -> None:
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.team_id = team_id
        self.team_domain = team_domain
        self.app_id = app_id
        self.now = now
        self.trigger_ttl = trigger_ttl
        self.users: dict[str, StandInUser] = {u.id: u for u in users}
        self.channels: dict[str, StandInChannel] = {c.id: c for c in channels}
        self._dm_by_user: dict[str, str] = {}
        self._dm_user: dict[str, str] = {}
        self._groups: dict[str, tuple[str, ...]] = {}
        self._messages: dict[str, list[StoredMessage]] = {}
        self._ephemerals: list[EphemeralMessage] = []
        self._calls: list[RecordedCall] = []
        self._responses: list[ResponseUrlPost] = []
        self.response_targets: dict[str, ResponseTarget] = {}
        self._triggers: dict[str, Trigger] = {}
        self._last_micros = 0
        self._counter = itertools.count(1)
        self._listeners: list[Listener] = []
        self._queues: list[asyncio.Queue[Change]] = []
        self._cond = asyncio.Condition()
        self._notify_pending = False
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- identifiers -------------------------------------------------------------------

    def next_ts(self) -> str:
        """A fresh message timestamp: from the clock, strictly increasing, unique."""
        micros = max(int(self.now() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return format_ts(micros)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter):08X}"

    # ---- people and conversations ------------------------------------------------------

    def dm_channel(self, user: str) -> str:
        """The id of the app's direct-message conversation with ``user`` (made on first use)."""
        if user not in self._dm_by_user:
            base = "D" + (user[1:] if user[:1] in ("U", "W") else user)
            channel = base
            while channel in self._dm_user or channel in self.channels:
                channel = f"{base}{next(self._counter)}"
            self._dm_by_user[user] = channel
            self._dm_user[channel] = user
        return self._dm_by_user[user]

    def dm_user(self, channel: str) -> str | None:
        return self._dm_user.get(channel)

    def group_channel(self, users: Sequence[str]) -> str:
        members = tuple(sorted(set(users)))
        for channel, existing in self._groups.items():
            if existing == members:
                return channel
        channel = self.next_id("G")
        self._groups[channel] = members
        return channel

    def is_user(self, user: str) -> bool:
        return user in self.users or user == self.bot_user_id

    def resolve_channel(self, ref: object) -> str:
        """A conversation id from an id, a ``#name``, a name, or a user id (their DM)."""
        if not isinstance(ref, str) or not ref:
            raise ApiError("channel_not_found")
        if ref in self.channels or ref in self._dm_user or ref in self._groups:
            return ref
        if ref in self.users:
            return self.dm_channel(ref)
        name = ref.removeprefix("#")
        for channel in self.channels.values():
            if channel.name == name:
                return channel.id
        raise ApiError("channel_not_found")

    def channel_name(self, channel: str) -> str:
        if channel in self.channels:
            return self.channels[channel].name
        if channel in self._dm_user:
            return "directmessage"
        return "mpdm-" + "--".join(self._groups.get(channel, ()))

    def channel_type(self, channel: str) -> str:
        if channel in self._dm_user:
            return "im"
        if channel in self._groups:
            return "mpim"
        return "group" if self.channels[channel].is_private else "channel"

    # ---- calls -------------------------------------------------------------------------

    def record_call(
        self, method: str, params: JsonDict, fault: str | None = None, connection: str = ""
    ) -> RecordedCall:
        call = RecordedCall(
            method=method, params=params, time=self.now(), fault=fault, connection=connection
        )
        self._calls.append(call)
        self.emit(Change("call"))
        return call

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        return [c for c in self._calls if method is None or c.method == method]

    # ---- messages ----------------------------------------------------------------------

    def post_message(
        self,
        channel: str,
        *,
        user: str,
        text: str,
        blocks: list[JsonDict] | None = None,
        attachments: list[JsonDict] | None = None,
        thread_ts: str | None = None,
        metadata: JsonDict | None = None,
        reply_broadcast: bool = False,
        files: list[JsonDict] | None = None,
    ) -> StoredMessage:
        parent = None if thread_ts is None else self.find_message(channel, thread_ts)
        # Slack threads a reply under the parent; a ts that names no message posts top-level.
        thread_ts = None if parent is None else parent.thread_ts or parent.ts
        is_bot = user == self.bot_user_id
        msg = StoredMessage(
            channel=channel,
            ts=self.next_ts(),
            user=user,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=thread_ts,
            bot_id=self.bot_id if is_bot else None,
            app_id=self.app_id if is_bot else None,
            metadata=metadata,
            reply_broadcast=reply_broadcast,
            files=files,
        )
        if parent is not None and parent.thread_ts is None:
            parent.thread_ts = parent.ts
        self._messages.setdefault(channel, []).append(msg)
        self.emit(Change("message", channel=channel, ts=msg.ts, user=user))
        return msg

    def find_message(self, channel: str, ts: str) -> StoredMessage | None:
        for msg in self._messages.get(channel, ()):
            if msg.ts == ts and not msg.deleted:
                return msg
        return None

    def update_message(
        self, msg: StoredMessage, *, text: str, blocks: list[JsonDict] | None
    ) -> StoredMessage:
        msg.edits.append(MessageEdit(time=self.now(), text=text, blocks=blocks))
        msg.text = text
        msg.blocks = blocks
        self.emit(Change("message_changed", channel=msg.channel, ts=msg.ts, user=msg.user))
        return msg

    def delete_message(self, msg: StoredMessage) -> None:
        msg.deleted = True
        self.emit(Change("message_deleted", channel=msg.channel, ts=msg.ts, user=msg.user))

    def add_reaction(self, msg: StoredMessage, name: str, user: str) -> None:
        users = msg.reactions.setdefault(name, [])
        if user in users:
            raise ApiError("already_reacted")
        users.append(user)
        self.emit(Change("reaction", channel=msg.channel, ts=msg.ts, user=user))

    def messages(self, channel: str, thread_ts: str | None = None) -> list[StoredMessage]:
        """Top-level messages of a conversation in order, or a thread (parent first)."""
        channel = self.resolve_channel(channel)
        alive = [m for m in self._messages.get(channel, ()) if not m.deleted]
        if thread_ts is None:
            return [m for m in alive if not m.is_reply or m.reply_broadcast]
        return [m for m in alive if m.ts == thread_ts or m.thread_ts == thread_ts]

    def all_messages(self) -> list[StoredMessage]:
        """Every message still present, in every conversation, in order of ``ts``."""
        out = [m for msgs in self._messages.values() for m in msgs if not m.deleted]
        return sorted(out, key=lambda m: (int(m.ts.split(".")[0]), m.ts))

    def message_dict(self, msg: StoredMessage) -> JsonDict:
        out = msg.as_slack(self.team_id)
        if msg.thread_ts == msg.ts:
            replies = [m for m in self.messages(msg.channel, msg.ts) if m.ts != msg.ts]
            out["reply_count"] = len(replies)
            out["reply_users"] = sorted({m.user for m in replies})
            out["reply_users_count"] = len(out["reply_users"])
            out["latest_reply"] = replies[-1].ts if replies else msg.ts
        if msg.bot_id is not None:
            out["bot_profile"] = {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": self.bot_name,
                "deleted": False,
                "team_id": self.team_id,
            }
        return out

    # ---- ephemeral messages ------------------------------------------------------------

    def post_ephemeral(
        self,
        channel: str,
        *,
        user: str,
        text: str,
        blocks: list[JsonDict] | None = None,
        thread_ts: str | None = None,
        source: str = "chat.postEphemeral",
    ) -> EphemeralMessage:
        eph = EphemeralMessage(
            channel=channel,
            user=user,
            ts=self.next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            source=source,
        )
        self._ephemerals.append(eph)
        self.emit(Change("ephemeral", channel=channel, ts=eph.ts, user=user))
        return eph

    def find_ephemeral(self, channel: str, ts: str) -> EphemeralMessage | None:
        for eph in self._ephemerals:
            if eph.channel == channel and eph.ts == ts and not eph.deleted:
                return eph
        return None

    def change_ephemeral(
        self, eph: EphemeralMessage, *, text: str, blocks: list[JsonDict] | None, delete: bool
    ) -> None:
        if delete:
            eph.deleted = True
        else:
            eph.edits.append(MessageEdit(time=self.now(), text=text, blocks=blocks))
            eph.text = text
            eph.blocks = blocks
        self.emit(Change("ephemeral_changed", channel=eph.channel, ts=eph.ts, user=eph.user))

    def ephemerals(self, user: str, channel: str | None = None) -> list[EphemeralMessage]:
        return [
            e
            for e in self._ephemerals
            if e.user == user and not e.deleted and (channel is None or e.channel == channel)
        ]

    # ---- triggers and response URLs ----------------------------------------------------

    def issue_trigger(self, user: str) -> str:
        trigger_id = f"{next(self._counter)}.{int(self.now())}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = Trigger(trigger_id, user, time.monotonic())
        return trigger_id

    def use_trigger(self, trigger_id: object) -> str:
        """Exchange a trigger for its user, as ``views.open`` does; errors as Slack names them."""
        trigger = self._triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None or time.monotonic() - trigger.issued_at > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        trigger.used = True
        return trigger.user

    def expire_triggers(self) -> None:
        for trigger in self._triggers.values():
            trigger.issued_at = float("-inf")

    def issue_response_url(self, target: ResponseTarget) -> str:
        response_id = secrets.token_urlsafe(12)
        self.response_targets[response_id] = target
        return response_id

    def record_response(self, response_id: str, body: JsonDict) -> ResponseUrlPost:
        post = ResponseUrlPost(response_id=response_id, body=body, time=self.now())
        self._responses.append(post)
        self.emit(Change("response_url", user=self.response_targets[response_id].user))
        return post

    def responses(self, response_id: str | None = None) -> list[ResponseUrlPost]:
        return [p for p in self._responses if response_id is None or p.response_id == response_id]

    # ---- listeners and waiting ---------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def subscribe(self) -> asyncio.Queue[Change]:
        queue: asyncio.Queue[Change] = asyncio.Queue()
        self._queues.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Change]) -> None:
        if queue in self._queues:
            self._queues.remove(queue)

    def emit(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)
        for queue in self._queues:
            queue.put_nowait(change)
        self._wake_waiters()

    def wake(self) -> None:
        """Let ``wait_for`` look again (e.g. after a call's answer was filled in)."""
        self._wake_waiters()

    def _wake_waiters(self) -> None:
        if self._notify_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._notify_pending = True
        task = loop.create_task(self._notify_all())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify_all(self) -> None:
        self._notify_pending = False
        async with self._cond:
            self._cond.notify_all()

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Wait until ``predicate()`` is truthy (checked after every change); return its value."""
        try:
            async with asyncio.timeout(timeout), self._cond:
                while not (result := predicate()):
                    await self._cond.wait()
                return result
        except TimeoutError:
            raise TimeoutError(f"stand-in: condition not met within {timeout} s") from None
