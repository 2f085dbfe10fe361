"""Claiming the outbox's rows: the head of each conversation that is due, leased to one
process; the rows a stopped process held, taken back; when a row is next due."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import BindParameter

from bot.domain.notices import NoticeKind
from storage.outbox.notices import GROUPED_KINDS, URGENT, Claimed, Notice
from storage.tables import OutboxRow, TicketRow, UTCDateTime

_EARLIER = aliased(OutboxRow)
_COLUMNS = (
    OutboxRow.id,
    OutboxRow.ticket_number,
    OutboxRow.kind,
    OutboxRow.payload,
    OutboxRow.attempts,
    OutboxRow.lease_owner,
    OutboxRow.conversation,
    OutboxRow.created_at,
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
    from BEGIN IMMEDIATE). A head takes the rows that go out with it (:func:`_followers`):
    the other pages due to its person, the other refreshes of its ticket's message."""
    params = {"now": now, "limit": limit, "skip": list(skip)}
    heads = list(await conn.execute(_CLAIM, params))
    if not heads:
        return []
    followers = await _followers(conn, heads, now=now, group_limit=group_limit)
    claims: list[Claimed] = []
    for head in heads:
        token = uuid.uuid4().hex
        members = [head, *followers.get(head.id, [])]
        claims.append(Claimed(tuple(_notice(r, token) for r in members), token))
    for claim in claims:
        await conn.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(claim.ids))
            .values(lease_until=now + lease, lease_owner=owner, lease_token=claim.token)
        )
    return claims


async def _followers(
    conn: AsyncConnection, heads: list[Any], *, now: datetime, group_limit: int
) -> dict[int, list[Any]]:
    """The free rows that go out with a head (by the head's id), locked as the heads are:
    the other pages due to the person a page head goes to (one message), and the other
    refreshes of the ticket whose message a head posts or updates. A ticket's message is
    drawn as the ticket is when it is sent, after this claim, so one call shows every step
    that owed a refresh before it: ten notes on a ticket cost one update, not ten in the
    channel's line of one message a second. One query for each (with an OR of the two,
    SQLite walks every pending row instead of either index)."""
    pages = {h.conversation: h.id for h in heads if NoticeKind(h.kind) in GROUPED_KINDS}
    cards = {
        h.ticket_number: h.id
        for h in heads
        if NoticeKind(h.kind) is NoticeKind.TICKET_MESSAGE and h.ticket_number is not None
    }
    heads_ids = [h.id for h in heads]
    followers: dict[int, list[Any]] = {}
    wanted = (  # heads by what their followers share, that column, and the followers' kind
        (
            pages,
            OutboxRow.conversation,
            and_(
                OutboxRow.kind.in_([str(k) for k in GROUPED_KINDS]),
                OutboxRow.priority == URGENT,
            ),
        ),
        (cards, OutboxRow.ticket_number, OutboxRow.kind == str(NoticeKind.TICKET_MESSAGE)),
    )
    for by, key, matching in wanted:
        if not by:
            continue
        rows = await conn.execute(
            select(*_COLUMNS)
            .outerjoin(TicketRow, TicketRow.number == OutboxRow.ticket_number)
            .where(_free(now), key.in_(list(by)), matching, OutboxRow.id.not_in(heads_ids))
            .order_by(OutboxRow.id)
            .limit(group_limit * len(by))
            .with_for_update(skip_locked=True, of=OutboxRow)
        )
        for row in rows:
            found = followers.setdefault(by[getattr(row, key.key)], [])
            if len(found) < group_limit - 1:
                found.append(row)
    return followers


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
        created_at=row.created_at,
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
