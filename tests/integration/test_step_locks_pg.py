"""On PostgreSQL a step that waits for the timer engine's lock on its ticket reads the timers
the engine left, not the ones it saw before it waited (READ COMMITTED reads the locked row
again, not the rows joined to it). The e2e review test once failed on this: the step dropped
the timer the engine had just fired and armed the next stage again (a duplicate key)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.services.context import Context
from storage.stage_timers import TIMERS, lock_for_steps
from tests.integration.support import opened


@pytest.mark.postgres_only
async def test_a_step_that_waited_for_the_engine_reads_the_timers_it_left(ctx: Context) -> None:
    number = await opened(ctx, 1)
    now = ctx.clock.now()
    engine_locked = asyncio.Event()
    release = asyncio.Event()

    async def engine_fires() -> None:  # as the timer engine: lock, fire, arm the next stage
        async with ctx.db.write(background=True) as conn:
            _, timers, _ = await lock_for_steps(conn, [number], [])
            (pending,) = [t for t in timers[number] if t.fired_at is None]
            engine_locked.set()
            await conn.execute(
                TIMERS.update()
                .where(TIMERS.c.id == pending.id)
                .values(fired_at=now, outcome="sent")
            )
            await conn.execute(
                TIMERS.insert().values(
                    ticket_number=number,
                    key="test:next",
                    due_at=now + timedelta(hours=1),
                    version=1,
                    armed_at=now,
                )
            )
            await release.wait()

    async def step_reads() -> dict[str, bool]:
        async with ctx.db.write() as conn:
            _, timers, _ = await lock_for_steps(conn, [number], [])
        return {t.key: t.fired_at is not None for t in timers[number]}

    engine = asyncio.create_task(engine_fires())
    await engine_locked.wait()
    step = asyncio.create_task(step_reads())
    await asyncio.sleep(0.5)
    assert not step.done()  # it waits for the engine's lock on the ticket
    release.set()
    await engine
    fired = await step
    assert fired["test:next"] is False  # the stage the engine armed, pending
    assert [key for key, done in fired.items() if not done] == ["test:next"]
