"""Keys of requests from Slack already acted on (idempotency)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import ProcessedRequestRow


async def first_time(session: AsyncSession, key: str, *, now: datetime) -> bool:
    """Record ``key`` in the caller's transaction; False when it was recorded before."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(ProcessedRequestRow)
        .values(key=key, at=now, reply="")
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def remember_reply(session: AsyncSession, key: str, reply: str) -> None:
    await session.execute(
        update(ProcessedRequestRow).where(ProcessedRequestRow.key == key).values(reply=reply)
    )


async def reply_for(session: AsyncSession, key: str) -> str:
    found = await session.scalar(
        select(ProcessedRequestRow.reply).where(ProcessedRequestRow.key == key)
    )
    return found or ""
