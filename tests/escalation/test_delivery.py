"""Delivery of the new notices: pacing per channel, failures kept and retried, /metrics."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
from sqlalchemy import select

from bot.services.delivery import ChannelPacer
from bot.sla.policy import Severity
from storage.tables import OutboxRow
from tests.escalation.support import open_ticket, settle
from tests.fakes import FakeClock
from tests.harness import Running


def test_the_pacer_allows_a_burst_then_one_a_second_per_channel() -> None:
    now = [0.0]
    pacer = ChannelPacer(rate=1.0, burst=3, monotonic=lambda: now[0])
    assert [pacer.reserve("C1", 2.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.reserve("C1", 2.0) == 1.0  # queued a second behind
    assert pacer.reserve("C1", 2.0) == 2.0
    assert pacer.reserve("C1", 2.0) is None  # would wait too long: not taken
    assert pacer.reserve("C2", 2.0) == 0.0  # another channel is not held up
    now[0] = 10.0
    assert pacer.reserve("C1", 2.0) == 0.0 and pacer.wait_for("C1") == 0.0


async def test_a_busy_channel_is_paced_and_nothing_is_lost(
    running: Running, clock: FakeClock
) -> None:
    waits: list[float] = []

    async def pause(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)  # it stands for a real sleep, which lets the others run

    delivery = running.bot.delivery
    now = [0.0]
    delivery.pacer = ChannelPacer(rate=1.0, burst=2, monotonic=lambda: now[0])
    delivery._pause = pause  # no real waiting in the test
    for _ in range(3):
        await open_ticket(running.bot.ctx, Severity.C)
    for _ in range(100):
        if not await _unsent(running):
            break
        now[0] += 0.5  # time passes as the worker waits
        delivery.wake()
        await asyncio.sleep(0.01)
    await settle(running.bot.ctx)
    assert len(running.slack.messages("C0SUPPORT")) == 3
    assert waits and max(waits) <= 2.0


async def _unsent(running: Running) -> int:
    async with running.bot.ctx.db.orm() as session:
        return len(
            (await session.scalars(select(OutboxRow).where(OutboxRow.sent_at.is_(None)))).all()
        )


async def test_failing_notices_are_kept_in_order_retried_and_counted(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    fault = slack.fail("conversations.open", status=500, times=None)
    await open_ticket(running.bot.ctx, Severity.A)
    await slack.wait_for(lambda: slack.messages("C0SUPPORT"))

    async def failing() -> bool:
        async with running.bot.ctx.db.orm() as session:
            rows = (await session.scalars(select(OutboxRow).where(OutboxRow.kind == "dm"))).all()
        return bool(rows) and rows[0].attempts >= 1 and rows[0].sent_at is None

    for _ in range(500):
        if await failing():
            break
        await asyncio.sleep(0.01)
    assert await failing()
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/metrics") as response:
        metrics = await response.text()
    assert 'escalator_notice_failures_total{kind="dm"}' in metrics
    assert "escalator_outbox_failing 1" in metrics
    slack.clear_faults()
    assert fault is not None
    await clock.advance(timedelta(minutes=5))  # past the backoff
    await settle(running.bot.ctx)
    assert len(slack.messages(slack.dm_channel("U0ENG1"))) == 1  # the page, after the DM
    assert len(slack.messages(slack.dm_channel("U0REP"))) == 1


async def test_a_row_waiting_behind_a_failed_one_does_not_make_the_worker_spin(
    running: Running, clock: FakeClock
) -> None:
    """The first notice of a ticket fails and waits for its retry; the ones behind it are
    due but may not go first. The worker sleeps until the retry: it does not claim again
    and again meanwhile."""
    ctx, delivery = running.bot.ctx, running.bot.delivery
    passes = 0
    real = delivery.drain_once

    async def counted() -> int:
        nonlocal passes
        passes += 1
        await asyncio.sleep(0)  # a spinning worker still lets the test see it spin
        return await real()

    delivery.drain_once = counted  # type: ignore[method-assign]
    running.slack.fail("chat.postMessage", status=500, times=3)  # the call and its 2 retries
    ticket = await open_ticket(ctx, Severity.C)
    for _ in range(500):  # slack_sdk's own retries wait in real time
        rows = await _rows(running, ticket.number)
        if rows[0].attempts:
            break
        await asyncio.sleep(0.01)
    passes = 0
    delivery.wake()
    await asyncio.sleep(0.3)
    assert passes <= 3, f"{passes} claim passes in 0.3 s while nothing could be sent"
    rows = await _rows(running, ticket.number)
    assert rows[0].attempts == 1 and rows[0].sent_at is None  # waits for its retry
    assert len(rows) > 1 and all(r.sent_at is None for r in rows[1:])  # behind it, in order
    await clock.advance(timedelta(minutes=10))  # past the retry: all go, in order
    await settle(ctx)
    assert len(running.slack.messages("C0SUPPORT")) == 1


async def _rows(running: Running, number: int) -> list[OutboxRow]:
    async with running.bot.ctx.db.orm() as session:
        query = select(OutboxRow).where(OutboxRow.ticket_number == number).order_by(OutboxRow.id)
        return list((await session.scalars(query)).all())
