"""Where pages were posted: the outbox rows of sent pages, read to bring page messages up to
date (linked to their tickets' messages, settled when the step was taken)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.notices import NoticeKind
from storage.tables import OutboxRow


async def page_messages(conn: AsyncConnection, number: int) -> list[dict[str, Any]]:
    """Where the pages naming ticket ``number`` were posted: their stored results (channel,
    ts, and the tickets each names), newest first, one per message."""
    rows = await conn.execute(
        select(OutboxRow.result)
        .where(
            OutboxRow.ticket_number == number,
            OutboxRow.kind == NoticeKind.PAGE,
            OutboxRow.sent_at.is_not(None),
            OutboxRow.set_aside_at.is_(None),
        )
        .order_by(OutboxRow.id.desc())
    )
    seen: set[tuple[str, str]] = set()
    found: list[dict[str, Any]] = []
    for (result,) in rows:
        if not result or "ts" not in result:
            continue
        key = (str(result.get("channel")), str(result.get("ts")))
        if key not in seen:
            seen.add(key)
            found.append(dict(result))
    return found


async def pages_in(
    conn: AsyncConnection, message: Mapping[str, Any]
) -> list[tuple[int, dict[str, Any]]]:
    """The pages one message delivers (a result from :func:`page_messages`): each page's
    ticket and payload, in order."""
    numbers = [int(n) for n in message.get("tickets") or []]
    if not numbers:
        return []
    rows = await conn.execute(
        select(OutboxRow.ticket_number, OutboxRow.payload, OutboxRow.result)
        .where(
            OutboxRow.ticket_number.in_(numbers),
            OutboxRow.kind == NoticeKind.PAGE,
            OutboxRow.sent_at.is_not(None),
        )
        .order_by(OutboxRow.id)
    )
    place = (str(message.get("channel")), str(message.get("ts")))
    return [
        (int(number), dict(payload))
        for number, payload, result in rows
        if result and (str(result.get("channel")), str(result.get("ts"))) == place
    ]
