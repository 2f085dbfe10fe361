"""On-call overrides (``/oncall override``): stored append-only, read back as domain values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.rotation import Override
from storage.tables import OnCallOverrideRow, table_of


async def add_override(
    conn: AsyncConnection, override: Override, *, created_by: str, now: datetime
) -> None:
    await conn.execute(
        insert(_OVERRIDES),
        {
            "user_id": override.user,
            "start": override.start,
            "end": override.end,
            "created_by": created_by,
            "created_at": now,
        },
    )


_OVERRIDES = table_of(OnCallOverrideRow)
# Built once, of the table's columns (not the ORM class's attributes, which bring the ORM's
# statement handling along): the timer engine and every class A or B report batch ask.
_AFTER = (
    select(_OVERRIDES.c.user_id, _OVERRIDES.c.start, _OVERRIDES.c.end)
    .where(_OVERRIDES.c.end > bindparam("now"))
    .order_by(_OVERRIDES.c.id)
)


async def overrides_after(conn: AsyncConnection, now: datetime) -> list[Override]:
    """The overrides that have not ended by ``now``, in the order they were given."""
    rows = await conn.execute(_AFTER, {"now": now})
    return [Override(user=r.user_id, start=r.start, end=r.end) for r in rows]
