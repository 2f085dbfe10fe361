"""The engine sleeps until the next due stage, wakes early when armed, and isolates a bad ticket."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.services import arming as timer_service
from bot.services.context import Context
from bot.services.timer_engine import TimerEngine
from bot.sla.policy import Severity
from tests.escalation.support import fired, open_ticket, pending, timer_config
from tests.fakes import FakeClock

MIN = timedelta(minutes=1)


async def test_sleeps_until_due_and_wakes_for_an_earlier_timer(
    ctx: Context, clock: FakeClock
) -> None:
    ctx = Context(db=ctx.db, config=timer_config(), clock=clock)
    engine = TimerEngine(ctx, recheck=timedelta(hours=1))
    ctx = Context(db=ctx.db, config=ctx.config, clock=clock, wake_engine=engine.wake)
    passes = 0
    original = engine.fire_due

    async def counted() -> int:
        nonlocal passes
        passes += 1
        return await original()

    engine.fire_due = counted  # type: ignore[method-assign]
    task = asyncio.create_task(engine.run())
    try:
        await asyncio.sleep(0.05)
        idle_passes = passes
        for _ in range(30):  # half a minute of nothing due: no passes (no polling)
            await clock.advance(timedelta(seconds=1))
            await asyncio.sleep(0)
        assert passes == idle_passes
        ticket = await open_ticket(ctx, Severity.A)  # the report itself pages the primary
        assert await fired(ctx, ticket.number) == {"respond:page:primary": "sent"}
        await asyncio.sleep(0.05)  # the pass the report's earlier timer woke the engine for
        before = passes
        await clock.advance(7 * MIN)  # 30 s short of the 50 % reminder
        await asyncio.sleep(0.05)
        assert passes == before
        await clock.advance(MIN)
        for _ in range(200):
            if "respond:reminder:50" in await fired(ctx, ticket.number):
                break
            await asyncio.sleep(0.01)
        assert "respond:reminder:50" in await fired(ctx, ticket.number)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_ticket_that_fails_does_not_hold_up_the_others(
    ctx: Context, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = Context(db=ctx.db, config=timer_config(), clock=clock)
    bad, good = await open_ticket(ctx, Severity.A), await open_ticket(ctx, Severity.A)
    real = timer_service.plan_for

    def plan_for(c: Context, ticket, now):  # type: ignore[no-untyped-def]
        if ticket.number == bad.number:
            raise RuntimeError("broken ticket")
        return real(c, ticket, now)

    monkeypatch.setattr("bot.services.timer_engine.plan_for", plan_for)
    await clock.advance(8 * MIN)  # past the 50 % reminder of respond
    engine = TimerEngine(ctx)
    while await engine.fire_due():
        pass
    assert (await fired(ctx, good.number))["respond:reminder:50"] == "sent"
    assert (await fired(ctx, bad.number))["respond:reminder:50"] == "error"
    # Only the next stage is stored: the bad ticket gets a retry wake-up, the good one its
    # next stage.
    (retry,) = await pending(ctx, bad.number)
    assert retry.startswith("retry:")
    assert list(await pending(ctx, good.number)) == ["respond:reminder:75"]
    monkeypatch.setattr("bot.services.timer_engine.plan_for", real)  # the cause is fixed
    await clock.advance(engine.recheck)
    while await engine.fire_due():
        pass
    assert (await fired(ctx, bad.number))["respond:reminder:75"] == "sent"


async def test_the_engine_outlives_a_database_that_is_away(ctx: Context, clock: FakeClock) -> None:
    """A read of the next due timer that fails (the database away) is logged and tried again
    after a while; the engine goes on and fires what falls due once the database is back."""
    from sqlalchemy.ext.asyncio import create_async_engine

    ctx = Context(db=ctx.db, config=timer_config(), clock=clock)
    engine = TimerEngine(ctx, recheck=timedelta(hours=1))
    ctx = Context(db=ctx.db, config=ctx.config, clock=clock, wake_engine=engine.wake)
    original_fire = engine.fire_due
    healthy = ctx.db.engine

    async def fire_then_lose_the_database() -> int:
        handled = await original_fire()
        ctx.db.engine = create_async_engine("sqlite+aiosqlite:////nonexistent-dir/escalator.db")
        return handled

    engine.fire_due = fire_then_lose_the_database  # type: ignore[method-assign]
    task = asyncio.create_task(engine.run())
    try:
        for _ in range(200):  # the read after the pass fails
            if ctx.db.engine is not healthy:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert not task.done()
        await ctx.db.engine.dispose()
        ctx.db.engine = healthy
        engine.fire_due = original_fire  # type: ignore[method-assign]
        ticket = await open_ticket(ctx, Severity.A)
        await clock.advance(8 * MIN)  # past the 50 % reminder and the 5 s back-off
        for _ in range(300):
            if "respond:reminder:50" in await fired(ctx, ticket.number):
                break
            await asyncio.sleep(0.01)
        assert "respond:reminder:50" in await fired(ctx, ticket.number)
        assert not task.done()
    finally:
        ctx.db.engine = healthy
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
