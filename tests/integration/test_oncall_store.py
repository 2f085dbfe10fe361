"""On-call overrides as stored: only the ones not ended by now come back, oldest first."""

from datetime import timedelta

from bot.domain.rotation import Override
from bot.services.context import Context
from storage import oncall as oncall_store


async def test_overrides_after_leaves_out_the_ended_ones(ctx: Context) -> None:
    now = ctx.clock.now()
    hour = timedelta(hours=1)
    given = [
        Override(user="U0ENG1", start=now - 3 * hour, end=now - hour),  # over
        Override(user="U0ENG2", start=now - hour, end=now + hour),
        Override(user="U0ENG3", start=now + hour, end=now + 2 * hour),
        Override(user="U0ENG1", start=now - hour, end=now),  # ends at now: over
    ]
    async with ctx.db.write() as conn:
        for override in given:
            await oncall_store.add_override(conn, override, created_by="U0MGR1", now=now)
    async with ctx.db.read() as conn:
        found = await oncall_store.overrides_after(conn, now)
    assert found == [given[1], given[2]]
