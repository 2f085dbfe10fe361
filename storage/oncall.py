"""On-call overrides (``/oncall override``): stored append-only, read back as domain values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.oncall import Override
from storage.tables import OnCallOverrideRow


async def add_override(
    conn: AsyncConnection, override: Override, *, created_by: str, now: datetime
) -> None:
    await conn.execute(
        insert(OnCallOverrideRow),
        {
            "user_id": override.user,
            "start": override.start,
            "end": override.end,
            "created_by": created_by,
            "created_at": now,
        },
    )


_ROW = OnCallOverrideRow
_AFTER = (  # built once: the timer engine and every report batch of class A or B ask
    select(_ROW.user_id, _ROW.start, _ROW.end).where(_ROW.end > bindparam("now")).order_by(_ROW.id)
)


async def overrides_after(conn: AsyncConnection, now: datetime) -> list[Override]:
    """The overrides that have not ended by ``now``, in the order they were given."""
    rows = await conn.execute(
        select(OnCallOverrideRow.user_id, OnCallOverrideRow.start, OnCallOverrideRow.end)
        .where(OnCallOverrideRow.end > now)
        .order_by(OnCallOverrideRow.id)
    )
    return [Override(user=r.user_id, start=r.start, end=r.end) for r in rows]
