"""Where pages were posted: the outbox rows of sent pages, read to bring page messages up to
date (linked to their tickets' messages, settled when the step was taken), and the
tickets' recorded changes that settle them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.notices import NoticeKind
from bot.domain.page_settlement import Change
from storage.tables import OutboxRow
from storage.tickets import EVENTS


class SentPage(NamedTuple):
    """One page of a message: its ticket, its payload, and when it was owed."""

    number: int | None
    payload: dict[str, Any]
    paged_at: datetime


# What a page is: a page by DM, or a stage's notice in the managers channel (its buttons
# ask the same steps; only those name their milestone).
PAGE_KINDS = (NoticeKind.PAGE, NoticeKind.MANAGERS)


def is_page(kind: str, payload: Mapping[str, Any] | None) -> bool:
    """Whether a notice asks a step with buttons, settled once the step is taken."""
    return kind == NoticeKind.PAGE or (
        kind == NoticeKind.MANAGERS and "milestone" in (payload or {})
    )


async def page_messages(conn: AsyncConnection, number: int) -> list[dict[str, Any]]:
    """Where the pages naming ticket ``number`` were posted: their stored results (channel,
    ts, and the tickets each names), newest first, one per message."""
    rows = await conn.execute(
        select(OutboxRow.kind, OutboxRow.payload, OutboxRow.result)
        .where(
            OutboxRow.ticket_number == number,
            OutboxRow.kind.in_(PAGE_KINDS),
            OutboxRow.sent_at.is_not(None),
            OutboxRow.set_aside_at.is_(None),
        )
        .order_by(OutboxRow.id.desc())
    )
    seen: set[tuple[str, str]] = set()
    found: list[dict[str, Any]] = []
    for kind, payload, result in rows:
        if not result or "ts" not in result:
            continue
        if not is_page(kind, payload):
            continue  # a line without buttons (or from before notices named their milestone)
        key = (str(result.get("channel")), str(result.get("ts")))
        if key not in seen:
            seen.add(key)
            found.append({"tickets": [number], **result})
    return found


async def pages_in(conn: AsyncConnection, message: Mapping[str, Any]) -> list[SentPage]:
    """The pages one message delivers (a result from :func:`page_messages`), in order."""
    numbers = [int(n) for n in message.get("tickets") or []]
    if not numbers:
        return []
    rows = await conn.execute(
        select(OutboxRow.ticket_number, OutboxRow.payload, OutboxRow.result, OutboxRow.created_at)
        .where(
            OutboxRow.ticket_number.in_(numbers),
            OutboxRow.kind.in_(PAGE_KINDS),
            OutboxRow.sent_at.is_not(None),
        )
        .order_by(OutboxRow.id)
    )
    place = (str(message.get("channel")), str(message.get("ts")))
    return [
        SentPage(int(number), dict(payload), created_at)
        for number, payload, result, created_at in rows
        if result and (str(result.get("channel")), str(result.get("ts"))) == place
    ]


async def changes_since(
    conn: AsyncConnection, numbers: Collection[int], since: datetime
) -> dict[int, list[Change]]:
    """The recorded changes of the tickets from ``since`` on, oldest first, by ticket."""
    found: dict[int, list[Change]] = {n: [] for n in numbers}
    if not numbers:
        return found
    rows = await conn.execute(
        select(
            EVENTS.c.ticket_number, EVENTS.c.at, EVENTS.c.actor_id, EVENTS.c.after, EVENTS.c.kind
        )
        .where(EVENTS.c.ticket_number.in_(list(numbers)), EVENTS.c.at >= since)
        .order_by(EVENTS.c.id)
    )
    for number, at, actor, after, kind in rows:
        found[int(number)].append(Change(at, str(actor or ""), dict(after or {}), str(kind)))
    return found
