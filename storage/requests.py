"""Keys of requests from Slack already acted on (idempotency)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import ProcessedRequestRow, table_of

REQUESTS = table_of(ProcessedRequestRow)
_REPLIES = select(REQUESTS.c.key, REQUESTS.c.reply).where(
    REQUESTS.c.key.in_(bindparam("keys", expanding=True))
)


async def first_time(conn: AsyncConnection, key: str, *, now: datetime, reply: str = "") -> bool:
    """Record ``key`` (with what it leaves for later, ``reply``) in the caller's transaction;
    False when it was recorded before."""
    result = await conn.execute(_record_new(conn), {"key": key, "at": now, "reply": reply})
    return bool(getattr(result, "rowcount", 0) == 1)


async def replies_for(conn: AsyncConnection, keys: Sequence[str]) -> dict[str, str]:
    """The recorded replies of the keys acted on before (a key not acted on is absent)."""
    if not keys:
        return {}
    rows = await conn.execute(_REPLIES, {"keys": list(keys)})
    return {key: reply for key, reply in rows}


async def remember_replies(
    conn: AsyncConnection, replies: Sequence[tuple[str, str]], *, now: datetime
) -> None:
    """Record keys acted on, with their replies, in the caller's transaction (one statement)."""
    if not replies:
        return
    await conn.execute(
        _record_new(conn), [{"key": key, "at": now, "reply": reply} for key, reply in replies]
    )


_RECORD_NEW = {
    dialect: insert(REQUESTS).on_conflict_do_nothing(index_elements=["key"])
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def _record_new(conn: AsyncConnection) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, in the connection's dialect."""
    dialect = conn.dialect.name
    return _RECORD_NEW["postgresql" if dialect == "postgresql" else "sqlite"]
