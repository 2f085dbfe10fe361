"""The outbox: messages owed to Slack, sent in order per conversation.

A conversation is where a message goes: a channel (a ticket's message and its thread lines
share their channel's), or one person's DM (``user:U…``). Rows of one conversation go one at
a time in (priority, id) order; only the head of each conversation can be claimed, so two
processes on one database never send a conversation's rows out of order. A claim leases its
rows to an owner (the process's instance name) with a token; the outcome is written back only
while that token still holds the row.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import BindParameter

from bot.domain.notices import NoticeKind
from storage.tables import OutboxRow, TicketRow, UTCDateTime, table_of

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


def priority_of(kind: NoticeKind) -> int:
    return URGENT if kind is NoticeKind.PAGE else ROUTINE


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


_POST_CHANNELS = select(TicketRow.number, TicketRow.post_channel).where(
    TicketRow.number.in_(bindparam("numbers", expanding=True))
)


async def enqueue_many(
    conn: AsyncConnection,
    notices: Sequence[NewNotice],
    *,
    now: datetime,
    channels: Mapping[int, str] | None = None,
) -> frozenset[str]:
    """Store many notices with one statement, in the order given (their order within each
    conversation). A ticket's message and thread lines go to the ticket's channel, read
    unless the caller knows it (``channels``, by ticket number: it never changes). Returns
    the conversations the notices went to (for the delivery worker's wake)."""
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
            "priority": priority_of(n.kind),
        }
        for n, conversation in zip(notices, conversations, strict=True)
    ]
    await conn.execute(_ENQUEUE, rows)
    return frozenset(conversations)


_EARLIER = aliased(OutboxRow)
_COLUMNS = (
    OutboxRow.id,
    OutboxRow.ticket_number,
    OutboxRow.kind,
    OutboxRow.payload,
    OutboxRow.attempts,
    OutboxRow.lease_owner,
    OutboxRow.conversation,
    TicketRow.post_channel,
    TicketRow.message_channel,
    TicketRow.message_ts,
)


def _free(now: datetime | BindParameter[datetime]) -> Any:
    """Unsent, due, and not leased (or its lease ran out)."""
    return and_(
        OutboxRow.sent_at.is_(None),
        OutboxRow.next_attempt_at <= now,
        or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until <= now),
    )


def _claim() -> Select[Any]:
    """The heads of the conversations due at ``:now`` and not in ``:skip``: rows with no
    earlier unsent row (by priority, then id) in their conversation, in that order, locked
    for the claim (at most ``:limit``). Built once: it runs after every step and report."""
    earlier = (
        exists()
        .where(
            _EARLIER.conversation == OutboxRow.conversation,
            _EARLIER.sent_at.is_(None),
            or_(
                _EARLIER.priority < OutboxRow.priority,
                and_(_EARLIER.priority == OutboxRow.priority, _EARLIER.id < OutboxRow.id),
            ),
        )
        .correlate(OutboxRow)
    )
    return (
        select(*_COLUMNS)
        .outerjoin(TicketRow, TicketRow.number == OutboxRow.ticket_number)
        .where(_free(bindparam("now", type_=UTCDateTime())), ~earlier)
        .where(OutboxRow.conversation.not_in(bindparam("skip", expanding=True)))
        .order_by(OutboxRow.priority, OutboxRow.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True, of=OutboxRow)
    )


_CLAIM = _claim()


def claim_query(now: datetime, *, limit: int, skip: Collection[str] = ()) -> Select[Any]:
    """The claim of :func:`claim_heads` with its values bound (to read its SQL)."""
    return _CLAIM.params(now=now, limit=limit, skip=list(skip))


async def claim_heads(
    conn: AsyncConnection,
    *,
    now: datetime,
    owner: str,
    lease: timedelta,
    limit: int = 100,
    skip: Collection[str] = (),
    group_limit: int = 50,
) -> list[Claimed]:
    """Claim the head of each conversation that is due now (at most ``limit``), leaving out
    the conversations in ``skip`` (at Slack's posting rate). A row with an earlier unsent row
    in its conversation (by priority, then id) is never claimed; the query holds the rows it
    takes (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite writers hold the file's write lock
    from BEGIN IMMEDIATE). A head that is a page takes the other pages due to that person
    with it: they go out as one message."""
    params = {"now": now, "limit": limit, "skip": list(skip)}
    heads = list(await conn.execute(_CLAIM, params))
    if not heads:
        return []
    followers: dict[str, list[Any]] = {}
    grouped = [h for h in heads if NoticeKind(h.kind) in GROUPED_KINDS]
    if grouped:
        more = await conn.execute(
            select(*_COLUMNS)
            .outerjoin(TicketRow, TicketRow.number == OutboxRow.ticket_number)
            .where(
                _free(now),
                OutboxRow.conversation.in_([h.conversation for h in grouped]),
                OutboxRow.kind.in_([str(k) for k in GROUPED_KINDS]),
                OutboxRow.priority == URGENT,
                OutboxRow.id.not_in([h.id for h in grouped]),
            )
            .order_by(OutboxRow.id)
            .limit(group_limit * len(grouped))
            .with_for_update(skip_locked=True, of=OutboxRow)
        )
        for row in more:
            found = followers.setdefault(row.conversation, [])
            if len(found) < group_limit - 1:
                found.append(row)
    claims: list[Claimed] = []
    grouping = {h.id for h in grouped}
    for head in heads:
        token = uuid.uuid4().hex
        members = [head, *followers.get(head.conversation, [])] if head.id in grouping else [head]
        claims.append(Claimed(tuple(_notice(r, token) for r in members), token))
    for claim in claims:
        await conn.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(claim.ids))
            .values(lease_until=now + lease, lease_owner=owner, lease_token=claim.token)
        )
    return claims


def _notice(row: Any, token: str) -> Notice:
    location = (row.message_channel, row.message_ts) if row.message_ts else None
    return Notice(
        row.id,
        row.ticket_number,
        NoticeKind(row.kind),
        dict(row.payload),
        row.attempts,
        # Claimed before with no outcome written (its process stopped), or tried and failed
        # (a timeout may have reached Slack): Slack may have it already.
        in_doubt=row.lease_owner is not None or row.attempts > 0,
        post_channel=row.post_channel,
        location=location,
        conversation=row.conversation,
        token=token,
    )


async def take_over(conn: AsyncConnection, *, owner: str, now: datetime) -> int:
    """At start: the rows this instance held when it stopped are free to claim at once (in
    doubt: the claim looks for them in Slack before posting). Returns how many."""
    result = await conn.execute(
        update(OutboxRow)
        .where(
            OutboxRow.lease_owner == owner,
            OutboxRow.sent_at.is_(None),
            OutboxRow.lease_until > now,
        )
        .values(lease_until=now)
    )
    return int(result.rowcount or 0)


async def sent_prompts(
    conn: AsyncConnection, ticket_number: int, prompt: str
) -> list[tuple[str, str, str | None]]:
    """Where the ticket's messages that asked ``prompt`` were posted (channel, ts, and the
    person a DM went to; None for a thread line), oldest first: the messages to update once
    it is answered. A ticket has few notices; the payload is read here rather than with each
    database's own JSON operators."""
    rows = await conn.execute(
        select(OutboxRow.kind, OutboxRow.payload, OutboxRow.result)
        .where(
            OutboxRow.ticket_number == ticket_number,
            OutboxRow.sent_at.is_not(None),
            OutboxRow.kind.in_([NoticeKind.THREAD, NoticeKind.DM]),
        )
        .order_by(OutboxRow.id)
    )
    found: list[tuple[str, str, str | None]] = []
    for kind, payload, result in rows:
        if (payload or {}).get("prompt") != prompt or not isinstance(result, dict):
            continue
        channel, ts = result.get("channel"), result.get("ts")
        user = (payload or {}).get("user") if kind == NoticeKind.DM else None
        if isinstance(channel, str) and isinstance(ts, str):
            found.append((channel, ts, str(user) if user else None))
    return found


_NEXT_DUE = select(
    func.min(OutboxRow.next_attempt_at).filter(OutboxRow.next_attempt_at > bindparam("after")),
    func.min(OutboxRow.lease_until).filter(OutboxRow.lease_until > bindparam("after")),
).where(OutboxRow.sent_at.is_(None))


async def next_due_at(conn: AsyncConnection, *, after: datetime) -> datetime | None:
    """The first instant after ``after`` when an unsent row may be tried (its next attempt,
    or the end of a lease). Rows due already but not claimed wait for one of those, or for
    a new row."""
    attempt_at, lease_until = (await conn.execute(_NEXT_DUE, {"after": after})).one()
    candidates = [t for t in (attempt_at, lease_until) if t is not None]
    return min(candidates) if candidates else None


def _held(ids: Sequence[int], token: str) -> Any:
    return and_(OutboxRow.id.in_(list(ids)), OutboxRow.lease_token == token)


async def _write_back(
    conn: AsyncConnection, ids: Sequence[int], token: str, values: dict[str, Any]
) -> bool:
    """Write the outcome while the claim still holds the rows; False when it was lost."""
    done = values | {"lease_until": None, "lease_owner": None, "lease_token": None}
    result = await conn.execute(update(OutboxRow).where(_held(ids, token)).values(**done))
    return int(result.rowcount or 0) > 0


async def mark_sent(
    conn: AsyncConnection,
    ids: Sequence[int],
    token: str,
    *,
    now: datetime,
    result: dict[str, Any],
) -> bool:
    return await _write_back(
        conn, ids, token, {"sent_at": now, "result": result, "attempts": OutboxRow.attempts + 1}
    )


async def set_aside(
    conn: AsyncConnection, ids: Sequence[int], token: str, *, now: datetime, error: str
) -> bool:
    """Slack refused it for good (or it failed too often): kept, with the error, out of the
    queue, holding nothing behind it."""
    return await _write_back(
        conn,
        ids,
        token,
        {
            "sent_at": now,
            "set_aside_at": now,
            "last_error": error[:2000],
            "result": {"dead": True},
            "attempts": OutboxRow.attempts + 1,
        },
    )


async def mark_failed(
    conn: AsyncConnection, ids: Sequence[int], token: str, *, error: str, retry_at: datetime
) -> bool:
    return await _write_back(
        conn,
        ids,
        token,
        {
            "next_attempt_at": retry_at,
            "last_error": error[:2000],
            "attempts": OutboxRow.attempts + 1,
        },
    )


async def release(conn: AsyncConnection, ids: Sequence[int], token: str) -> bool:
    """Give claimed rows back untried (their conversation is at Slack's posting rate)."""
    return await _write_back(conn, ids, token, {})


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
