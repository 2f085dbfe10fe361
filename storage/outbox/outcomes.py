"""Writing a claim's outcome back: sent, failed (tried again later), set aside, or given
back untried; each only while the claim still holds its rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import OutboxRow


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
