"""The outbox: messages owed to Slack, claimed with a lease so two workers never send one row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.notices import NoticeKind
from storage.tables import OutboxRow, TicketRow, table_of

LEASE = timedelta(seconds=60)
_ENQUEUE = insert(table_of(OutboxRow))


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


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    failing: int
    oldest_pending_at: datetime | None
    sent: int


@dataclass(frozen=True)
class NewNotice:
    ticket_number: int | None
    kind: NoticeKind
    payload: dict[str, Any]


async def enqueue_many(
    conn: AsyncConnection, notices: Sequence[NewNotice], *, now: datetime
) -> None:
    """Store many notices with one statement, in the order given (the order they are sent
    in, per ticket)."""
    if not notices:
        return
    await conn.execute(
        _ENQUEUE,
        [
            {
                "ticket_number": n.ticket_number,
                "kind": n.kind,
                "payload": n.payload,
                "created_at": now,
                "next_attempt_at": now,
                "attempts": 0,
            }
            for n in notices
        ],
    )


async def claim_due(
    conn: AsyncConnection,
    *,
    now: datetime,
    limit: int = 100,
    hold: Callable[[Notice], bool] | None = None,
) -> list[Notice]:
    """Claim the due rows that are first in line for their ticket (order per ticket is kept:
    a row waits while an earlier row of the same ticket is unsent). A row ``hold`` says no
    to (its channel is at Slack's posting rate) is left unclaimed, and so is the rest of its
    ticket's line."""
    rows = await conn.execute(
        select(
            OutboxRow.id,
            OutboxRow.ticket_number,
            OutboxRow.kind,
            OutboxRow.payload,
            OutboxRow.attempts,
            OutboxRow.lease_until,
            OutboxRow.next_attempt_at,
            TicketRow.post_channel,
            TicketRow.message_channel,
            TicketRow.message_ts,
        )
        .outerjoin(TicketRow, TicketRow.number == OutboxRow.ticket_number)
        .where(OutboxRow.sent_at.is_(None))
        .order_by(OutboxRow.id)
        .limit(limit * 4)
        .with_for_update(skip_locked=True, of=OutboxRow)
    )
    blocked: set[int] = set()
    claimed: list[Notice] = []
    for row in rows:
        ticket = row.ticket_number
        leased = row.lease_until is not None and row.lease_until > now
        if ticket is not None and ticket in blocked:
            continue
        if ticket is not None:
            blocked.add(ticket)
        if leased or row.next_attempt_at > now:
            continue
        # A lease that ran out (never released, nor marked) means a process stopped mid-send.
        in_doubt = row.lease_until is not None or row.attempts > 0
        location = (row.message_channel, row.message_ts) if row.message_ts else None
        notice = Notice(
            row.id,
            ticket,
            NoticeKind(row.kind),
            dict(row.payload),
            row.attempts,
            in_doubt,
            post_channel=row.post_channel,
            location=location,
        )
        if hold is not None and hold(notice):
            continue
        claimed.append(notice)
        if len(claimed) >= limit:
            break
    if claimed:
        await conn.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_([n.id for n in claimed]))
            .values(lease_until=now + LEASE)
        )
    return claimed


async def sent_prompts(
    conn: AsyncConnection, ticket_number: int, prompt: str
) -> list[tuple[str, str]]:
    """Where the ticket's messages that asked ``prompt`` were posted (channel, ts), oldest
    first: the messages to update once it is answered. A ticket has few notices; the
    payload is read here rather than with each database's own JSON operators."""
    rows = await conn.execute(
        select(OutboxRow.payload, OutboxRow.result)
        .where(
            OutboxRow.ticket_number == ticket_number,
            OutboxRow.sent_at.is_not(None),
            OutboxRow.kind.in_([NoticeKind.THREAD, NoticeKind.DM]),
        )
        .order_by(OutboxRow.id)
    )
    found: list[tuple[str, str]] = []
    for payload, result in rows:
        if (payload or {}).get("prompt") != prompt or not isinstance(result, dict):
            continue
        channel, ts = result.get("channel"), result.get("ts")
        if isinstance(channel, str) and isinstance(ts, str):
            found.append((channel, ts))
    return found


async def next_due_at(conn: AsyncConnection, *, after: datetime) -> datetime | None:
    """The first instant after ``after`` when an unsent row may be tried (its next attempt,
    or the end of a lease). Rows due already but not claimed wait for one of those, or for
    a new row."""
    rows = await conn.execute(
        select(
            func.min(OutboxRow.next_attempt_at).filter(OutboxRow.next_attempt_at > after),
            func.min(OutboxRow.lease_until).filter(OutboxRow.lease_until > after),
        ).where(OutboxRow.sent_at.is_(None))
    )
    attempt_at, lease_until = rows.one()
    candidates = [t for t in (attempt_at, lease_until) if t is not None]
    return min(candidates) if candidates else None


async def mark_sent(
    conn: AsyncConnection, notice_id: int, *, now: datetime, result: dict[str, Any]
) -> None:
    await conn.execute(
        update(OutboxRow)
        .where(OutboxRow.id == notice_id)
        .values(sent_at=now, lease_until=None, result=result, attempts=OutboxRow.attempts + 1)
    )


async def mark_dead(conn: AsyncConnection, notice_id: int, *, now: datetime, error: str) -> None:
    """Slack refused the notice for good: keep it, with the error, out of the queue."""
    await conn.execute(
        update(OutboxRow)
        .where(OutboxRow.id == notice_id)
        .values(
            sent_at=now,
            lease_until=None,
            last_error=error[:2000],
            result={"dead": True},
            attempts=OutboxRow.attempts + 1,
        )
    )


async def mark_failed(
    conn: AsyncConnection, notice_id: int, *, error: str, retry_at: datetime
) -> None:
    await conn.execute(
        update(OutboxRow)
        .where(OutboxRow.id == notice_id)
        .values(
            lease_until=None,
            next_attempt_at=retry_at,
            last_error=error[:2000],
            attempts=OutboxRow.attempts + 1,
        )
    )


async def stats(conn: AsyncConnection) -> OutboxStats:
    unsent = OutboxRow.sent_at.is_(None)
    pending, failing, oldest = (
        await conn.execute(
            select(
                func.count().filter(unsent),
                func.count().filter(and_(unsent, OutboxRow.attempts > 0)),
                func.min(OutboxRow.created_at).filter(unsent),
            )
        )
    ).one()
    sent = await conn.scalar(
        select(func.count()).select_from(OutboxRow).where(or_(OutboxRow.sent_at.is_not(None)))
    )
    return OutboxStats(int(pending), int(failing), oldest, int(sent or 0))


async def release_many(conn: AsyncConnection, notice_ids: Sequence[int]) -> None:
    """Give claimed rows back untried (paced: their channel is at Slack's posting rate)."""
    await conn.execute(
        update(OutboxRow).where(OutboxRow.id.in_(list(notice_ids))).values(lease_until=None)
    )
