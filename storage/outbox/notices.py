"""The outbox's rows: which conversation a notice goes to, storing notices, reading what
was sent, and the counts /metrics shows."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.notices import NoticeKind
from storage.tables import OutboxRow, TicketRow, table_of

_ENQUEUE = insert(table_of(OutboxRow))
URGENT, ROUTINE = 0, 1  # priorities within a conversation
GROUPED_KINDS = frozenset({NoticeKind.PAGE})  # due together to one person: one message
# In the ticket's channel's conversation: the card, its thread, and the updates of prompts
# asked in the thread (after the prompt they answer).
TICKET_CHANNEL_KINDS = frozenset({NoticeKind.TICKET_MESSAGE, NoticeKind.THREAD, NoticeKind.SETTLE})


def conversation_of(kind: NoticeKind, payload: Mapping[str, Any], channel: str | None) -> str:
    """Which conversation a notice goes to; ``channel`` is its ticket's channel, if any."""
    if kind in (NoticeKind.DM, NoticeKind.PAGE):
        return f"user:{payload.get('user')}"
    if kind in TICKET_CHANNEL_KINDS:
        return channel or ""
    return str(payload.get("channel") or "")


def priority_of(kind: NoticeKind, *, urgent: bool = False) -> int:
    return URGENT if kind is NoticeKind.PAGE or urgent else ROUTINE


@dataclass(frozen=True)
class Notice:
    id: int
    ticket_number: int | None
    kind: NoticeKind
    payload: dict[str, Any]
    attempts: int
    in_doubt: bool = False  # tried before with no answer stored: Slack may have it already
    post_channel: str | None = None  # the ticket's channel (when the notice has a ticket)
    location: tuple[str, str] | None = None  # the ticket message (channel, ts), once posted
    conversation: str = ""
    token: str = ""  # the claim that holds it
    created_at: datetime | None = None  # when it was owed (a page: settled by what came after)


@dataclass(frozen=True)
class Claimed:
    """The head of one conversation, and the rows due with it that go in the same message
    (pages to one person): ``notices[0]`` is the head."""

    notices: tuple[Notice, ...]
    token: str

    @property
    def head(self) -> Notice:
        return self.notices[0]

    @property
    def conversation(self) -> str:
        return self.head.conversation

    @property
    def ids(self) -> list[int]:
        return [n.id for n in self.notices]


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    failing: int
    oldest_pending_at: datetime | None
    sent: int
    set_aside: int = 0


@dataclass(frozen=True)
class NewNotice:
    ticket_number: int | None
    kind: NoticeKind
    payload: dict[str, Any] = field(default_factory=dict)
    # An escalation message (a breach notice, a page's note in the thread): before the
    # routine notices of its conversation; a thread line once its ticket message is posted.
    urgent: bool = False


_POST_CHANNELS = select(TicketRow.number, TicketRow.post_channel).where(
    TicketRow.number.in_(bindparam("numbers", expanding=True))
)
_POSTED = select(TicketRow.number).where(
    TicketRow.number.in_(bindparam("numbers", expanding=True)), TicketRow.message_ts.is_not(None)
)


async def enqueue_many(
    conn: AsyncConnection,
    notices: Sequence[NewNotice],
    *,
    now: datetime,
    channels: Mapping[int, str] | None = None,
    unposted: Collection[int] = (),
) -> frozenset[str]:
    """Store many notices with one statement, in the order given (their order within each
    conversation). A ticket's message and thread lines go to the ticket's channel, read
    unless the caller knows it (``channels``, by ticket number: it never changes); whether
    its message is posted is read unless the caller knows it is not (``unposted``: tickets
    made in its transaction). Returns the conversations the notices went to (for the
    delivery worker's wake)."""
    if not notices:
        return frozenset()
    known: Mapping[int, str] = channels or {}
    numbers = {
        n.ticket_number
        for n in notices
        if n.ticket_number is not None
        and n.kind in TICKET_CHANNEL_KINDS
        and n.ticket_number not in known
    }
    channels = dict(known)
    if numbers:
        found = await conn.execute(_POST_CHANNELS, {"numbers": sorted(numbers)})
        channels |= {number: channel for number, channel in found}
    # An urgent line of a ticket whose message is not posted yet keeps its place after it.
    waiting = {
        n.ticket_number
        for n in notices
        if n.urgent and n.ticket_number is not None and n.kind in TICKET_CHANNEL_KINDS
    }
    if asked := waiting - set(unposted):
        waiting -= set(await conn.scalars(_POSTED, {"numbers": sorted(asked)}))
    conversations = [
        conversation_of(
            n.kind, n.payload, None if n.ticket_number is None else channels.get(n.ticket_number)
        )
        for n in notices
    ]
    rows = [
        {
            "ticket_number": n.ticket_number,
            "kind": n.kind,
            "payload": n.payload,
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0,
            "conversation": conversation,
            "priority": priority_of(n.kind, urgent=n.urgent and n.ticket_number not in waiting),
        }
        for n, conversation in zip(notices, conversations, strict=True)
    ]
    await conn.execute(_ENQUEUE, rows)
    return frozenset(conversations)


async def sent_prompts(
    conn: AsyncConnection, ticket_number: int, prompt: str, *, answer: int
) -> list[tuple[str, str, str | None]]:
    """Where the ticket's messages that asked ``prompt`` in the round the notice ``answer``
    settles were posted (channel, ts, and the person a DM went to; None for a thread line),
    oldest first: the messages to update once it is answered. A round's prompts are those
    after the previous answer's notice (an earlier round keeps saying its own answer). A
    ticket has few notices; the payload is read here rather than with each database's own
    JSON operators."""
    rows = await conn.execute(
        select(OutboxRow.kind, OutboxRow.payload, OutboxRow.result, OutboxRow.sent_at)
        .where(
            OutboxRow.ticket_number == ticket_number,
            OutboxRow.id < answer,
            OutboxRow.kind.in_([NoticeKind.THREAD, NoticeKind.DM, NoticeKind.SETTLE]),
        )
        .order_by(OutboxRow.id)
    )
    found: list[tuple[str, str, str | None]] = []
    for kind, payload, result, sent_at in rows:
        if (payload or {}).get("prompt") != prompt:
            continue
        if kind == NoticeKind.SETTLE:
            found.clear()  # an earlier round, answered already
            continue
        if sent_at is None or not isinstance(result, dict):
            continue
        channel, ts = result.get("channel"), result.get("ts")
        user = (payload or {}).get("user") if kind == NoticeKind.DM else None
        if isinstance(channel, str) and isinstance(ts, str):
            found.append((channel, ts, str(user) if user else None))
    return found


async def answer_to(
    conn: AsyncConnection, ticket_number: int, prompt: str, *, after: int
) -> dict[str, Any] | None:
    """The settle notice (its payload) that answered ``prompt`` after the notice ``after``
    was owed, if it is answered: a prompt that goes out late says its answer, not the
    question."""
    rows = await conn.execute(
        select(OutboxRow.payload)
        .where(
            OutboxRow.ticket_number == ticket_number,
            OutboxRow.kind == NoticeKind.SETTLE,
            OutboxRow.id > after,
        )
        .order_by(OutboxRow.id)
    )
    return next((dict(p) for (p,) in rows if (p or {}).get("prompt") == prompt), None)


async def stats(conn: AsyncConnection) -> OutboxStats:
    unsent = OutboxRow.sent_at.is_(None)
    pending, failing, oldest, aside, sent = (
        await conn.execute(
            select(
                func.count().filter(unsent),
                func.count().filter(and_(unsent, OutboxRow.attempts > 0)),
                func.min(OutboxRow.created_at).filter(unsent),
                func.count().filter(OutboxRow.set_aside_at.is_not(None)),
                func.count().filter(OutboxRow.sent_at.is_not(None)),
            )
        )
    ).one()
    return OutboxStats(int(pending), int(failing), oldest, int(sent or 0), int(aside or 0))
