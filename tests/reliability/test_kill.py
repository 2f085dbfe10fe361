"""A real ``escalator serve`` killed with SIGKILL at random moments under a load of reports and
commands, and started again each time: nothing answered 200 is lost, ticket numbers have no gaps
or duplicates, and every notice is delivered exactly once (counted at the stand-in)."""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import pytest

from bot.sandbox.standin import SlackStandIn
from tests.reliability.support import (
    LIMIT,
    LONG,
    Load,
    ServeProcess,
    query,
    until,
    verdict,
)

KILLS = 24 if LONG else 5
# Delivery is at least once today: a notice Slack took whose "sent" mark died with the process
# is sent again after the restart. When delivery becomes idempotent (e.g. keyed by outbox id in
# the message metadata), set this to True and a notice sent twice fails the test.
IDEMPOTENT_DELIVERY = True


async def test_sigkill_at_random_moments_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, db_url: str, slack: SlackStandIn
) -> None:
    seed = int(os.environ.get("ESCALATOR_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    db = db_url
    bot = ServeProcess(tmp_path, slack, db=db, short_lease=not LONG)
    slack.bot_events_url = bot.events_url
    load = Load([bot.events_url], slack.base_url, prefix="VKILL")
    task: asyncio.Task[None] | None = None
    try:
        await bot.start()
        task = asyncio.create_task(load.run())
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.3, 2.0))
            bot.kill()
            await bot.start()
        await asyncio.sleep(rng.uniform(0.5, 1.5))
        load.stopped.set()
        await task
        try:
            await until(
                lambda: not query(db, "select 1 from outbox where sent_at is null"),
                limit=LIMIT + 60,
                what="every notice to be sent after the last restart",
            )
        except AssertionError as waited:  # what is left, and why, to find it again
            unsent = query(
                db,
                "select id, ticket_number, kind, conversation, attempts, next_attempt_at,"
                " lease_until, last_error from outbox where sent_at is null order by id",
            )
            raise AssertionError(
                f"seed {seed}: {waited}; unsent {unsent[:10]}; log: {bot.stderr()[-3000:]}"
            ) from waited
    finally:
        load.stopped.set()
        if task is not None and not task.done():
            task.cancel()
        bot.stop()

    found = verdict(db, load, slack)
    result = found.notices
    print(f"seed {seed}: {KILLS} kills, {bot.starts} starts; {found.summary()}")
    assert found.refused == [], found.refused[:3]
    assert found.late_acks == [], found.late_acks[:3]
    assert len(found.reports_ok) >= KILLS  # the load did run between the kills
    assert found.lost_reports == set()
    assert found.numbering_ok
    assert found.lost_notes == [] and found.twice_notes == []
    assert result.missing == {}, result.summary()
    assert result.lost_ticket_messages == 0, result.summary()
    twice = sum(result.twice.values()) + result.duplicate_ticket_messages
    if twice and not IDEMPOTENT_DELIVERY:
        pytest.xfail(
            f"{twice} notices sent twice: Slack got them, the kill lost their 'sent' mark "
            f"({result.summary()})"
        )
    assert twice == 0, result.summary()
    assert result.thread_order_ok
