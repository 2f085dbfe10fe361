"""On-call overrides (``/oncall override``): stored append-only, read back as domain values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.oncall import Override
from storage.tables import OnCallOverrideRow


async def add_override(
    session: AsyncSession, override: Override, *, created_by: str, now: datetime
) -> None:
    session.add(
        OnCallOverrideRow(
            user_id=override.user,
            start=override.start,
            end=override.end,
            created_by=created_by,
            created_at=now,
        )
    )


async def overrides_after(session: AsyncSession, now: datetime) -> list[Override]:
    """The overrides that have not ended by ``now``, in the order they were given."""
    rows = await session.scalars(
        select(OnCallOverrideRow).where(OnCallOverrideRow.end > now).order_by(OnCallOverrideRow.id)
    )
    return [Override(user=r.user_id, start=r.start, end=r.end) for r in rows]
