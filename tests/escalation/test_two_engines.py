"""Two engines on two Database objects over one SQLite file never fire a stage twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from bot.services.context import Context
from bot.services.timer_engine import TimerEngine
from bot.sla.policy import Severity
from storage.db import Database
from storage.tables import OutboxRow, TimerRow
from tests.escalation.support import bump_version, open_ticket, timer_config
from tests.fakes import FakeClock

MIN = timedelta(minutes=1)


async def notices(ctx: Context) -> list[tuple[int | None, str, str, str]]:
    async with ctx.db.orm() as session:
        rows = (await session.scalars(select(OutboxRow).where(OutboxRow.kind != "dm"))).all()
    return [
        (r.ticket_number, str(r.payload.get("stage")), r.kind, str(r.payload.get("user")))
        for r in rows
        if "stage" in r.payload
    ]


async def test_two_engines_share_the_work_and_send_each_stage_once(
    db_url: str, clock: FakeClock
) -> None:
    config = timer_config()
    first, second = Database(db_url), Database(db_url)
    from storage.migrate import migrate

    await migrate(first)
    ctx1 = Context(db=first, config=config, clock=clock)
    ctx2 = Context(db=second, config=config, clock=clock)
    for n in range(40):
        await open_ticket(ctx1 if n % 2 else ctx2, Severity.A if n % 3 else Severity.B)
    engines = [TimerEngine(ctx1, batch=7), TimerEngine(ctx2, batch=5)]
    tasks = [asyncio.create_task(e.run()) for e in engines]
    try:
        for _ in range(40):  # 200 minutes in 5-minute steps, both engines awake
            await clock.advance(5 * MIN)
            for engine in engines:
                engine.wake()
            for _ in range(200):
                await asyncio.sleep(0.005)
                async with first.read() as session:
                    due = await session.scalar(
                        select(TimerRow.id).where(
                            TimerRow.fired_at.is_(None), TimerRow.due_at <= clock.now()
                        )
                    )
                if due is None:
                    break
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    sent = await notices(ctx1)
    duplicates = [item for item, times in Counter(sent).items() if times > 1]
    assert duplicates == []
    assert {s for _, s, _, _ in sent} >= {"respond:page:primary", "diagnose:breach", "plan:breach"}
    await first.close()
    await second.close()


async def test_racing_passes_on_a_backlog_send_the_latest_stage_once(
    db_url: str, clock: FakeClock
) -> None:
    config = timer_config()
    first, second = Database(db_url), Database(db_url)
    from storage.migrate import migrate

    await migrate(first)
    ctx1 = Context(db=first, config=config, clock=clock)
    ctx2 = Context(db=second, config=config, clock=clock)
    for _ in range(30):
        await open_ticket(ctx1, Severity.A)
    await bump_version(ctx1, 3)  # ticket 3 changed without re-arming: its timers are stale
    await clock.advance(100 * MIN)  # a backlog: the engines were down for 100 minutes
    one, two = TimerEngine(ctx1, batch=4), TimerEngine(ctx2, batch=3)
    while sum(await asyncio.gather(one.fire_due(), two.fire_due())):
        pass
    sent = await notices(ctx1)
    assert [item for item, times in Counter(sent).items() if times > 1] == []
    for number in range(1, 31):
        stages = sorted({s for t, s, _, _ in sent if t == number})
        # the primary page went out with the report; then one step per milestone: respond's
        # latest (secondary page), diagnose's (repeat 1), plan's (50 % of the plan, at 120
        # minutes, is not due yet)
        assert stages == [
            "diagnose:repeat:1",
            "respond:page:primary",
            "respond:page:secondary",
        ], number
    assert one.stats.stale + two.stats.stale == 1
    await first.close()
    await second.close()
