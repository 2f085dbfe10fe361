"""The database made unavailable under load: another process holds SQLite's write lock for
longer than the busy timeout while reports arrive and timers fall due. The timer engine and
the delivery worker fail their passes, log, back off and carry on: once the lock is gone,
every notice and every timer goes out, nothing twice."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.config import Config
from bot.sandbox.standin import SlackStandIn
from storage.db import BUSY_TIMEOUT_MS
from storage.tables import OutboxRow, TicketRow, TimerRow
from tests.escalation.support import settle, timer_config
from tests.fakes import FakeClock
from tests.harness import Running, running_bot
from tests.reliability.support import (
    FORM,
    LIMIT,
    bolt_idle,
    ledger,
    report_body,
    signed_headers,
    until,
)
from tests.reliability.test_faults import outbox_state

# The outage is SQLite's write lock held by another process (a file's lock); PostgreSQL's
# outage (connections refused and ended) is tests/reliability/test_outage_pg.py.
pytestmark = pytest.mark.sqlite_only

# Seconds: longer than two writers wait for the lock, one after the other (the reports
# arriving meanwhile wait first; a worker's pass waits behind them, and fails too).
OUTAGE = 2 * BUSY_TIMEOUT_MS / 1000 + 2.0
MIN = timedelta(minutes=1)


@pytest.fixture
async def running(db_url: str, clock: FakeClock) -> AsyncIterator[Running]:
    config: Config = timer_config()
    async with running_bot(db_url, config, clock) as run:
        yield run


async def report(http: aiohttp.ClientSession, running: Running, n: int) -> int:
    body = report_body(f"VOUT{n:04d}", f"Outage report {n}", yes=True)
    async with http.post(
        f"{running.url}/slack/events", data=body.encode(), headers=signed_headers(body, FORM)
    ) as response:
        return response.status


def hold_write_lock(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


async def meanwhile(clock: FakeClock, seconds: float) -> None:
    """The outage's ``seconds`` go by while the clock moves 16 minutes: reminders and
    secondary pages fall due while the database is away."""
    for _ in range(4):
        await clock.advance(4 * MIN)
        await asyncio.sleep(seconds / 4)


async def recovered(running: Running, *, tickets: int, what: str) -> None:
    """After an outage: every worker back at work (each retries on its own pace), every report
    sent a ticket (those answered "being saved" stored once the database was back: none
    lost, none twice), and every notice owed sent once, threads in order."""
    await bolt_idle()
    await settle(running.bot.ctx, rounds=int(LIMIT * 100))

    async def healthy() -> bool:
        async with aiohttp.ClientSession() as http, http.get(f"{running.url}/healthz") as got:
            return got.status == 200

    async def all_stored() -> bool:
        return len((await outbox_state(running))[1]) == tickets

    await until(healthy, what="/healthz to answer 200 again")
    await until(all_stored, what="the reports sent during the outage to be stored")
    await settle(running.bot.ctx)
    items, stored = await outbox_state(running)
    result = ledger(running.slack, items, stored)
    print(f"{what}: {result.summary()}")
    assert result.missing == {} and result.twice == {}, result.summary()
    assert set(result.ticket_messages.values()) == {1}
    assert result.thread_order_ok


async def worker_errors(running: Running) -> float:
    """The failed passes of the workers, from /metrics."""
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/metrics") as response:
        metrics = await response.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("escalator_worker_errors_total")
    )


async def test_a_database_outage_under_load_loses_nothing_and_sends_nothing_twice(
    running: Running, clock: FakeClock, db_url: str
) -> None:
    path = Path(db_url.split("///", 1)[1])
    async with aiohttp.ClientSession() as http:
        assert {await report(http, running, n) for n in range(6)} == {200}
        await settle(running.bot.ctx)
        lock = await asyncio.to_thread(hold_write_lock, path)
        try:
            # Meanwhile: reports arrive, and reminders and secondary pages fall due.
            late = [asyncio.create_task(report(http, running, 100 + n)) for n in range(4)]
            await meanwhile(clock, OUTAGE)
        finally:
            lock.rollback()
            lock.close()
        await asyncio.gather(*late)
    await recovered(running, tickets=10, what="outage")
    # a pass did fail, and its worker carried on
    assert await worker_errors(running) >= 1
    async with running.bot.ctx.db.orm() as session:
        fired = (
            await session.scalars(select(TimerRow).where(TimerRow.fired_at.is_not(None)))
        ).all()
        stages = (await session.scalars(select(OutboxRow))).all()
    assert any(t.key == "respond:page:secondary" for t in fired)  # due during the outage
    sent_stages = Counter(
        (r.ticket_number, r.payload.get("stage"), r.kind, r.payload.get("user"))
        for r in stages
        if r.payload.get("stage")
    )
    assert max(sent_stages.values()) == 1  # each stage's notices stored once


async def test_a_report_the_database_never_takes_is_given_back_to_its_reporter(
    db_url: str, clock: FakeClock
) -> None:
    """The lock outlasts the report's patience: no ticket, and the reporter gets by direct
    message what they wrote (shown as typed), to send again."""
    path = Path(db_url.split("///", 1)[1])
    async with running_bot(db_url, timer_config(), clock, patience=0.5) as running:
        lock = await asyncio.to_thread(hold_write_lock, path)
        try:
            body = report_body("VGONE01", "Payroll <stuck> & *late*", details="Since 9:00")
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"{running.url}/slack/events",
                    data=body.encode(),
                    headers=signed_headers(body, FORM),
                ) as response,
            ):
                assert response.status == 200
                answer = await response.json()
            assert answer["view"]["callback_id"] == "report_pending"
            slack = running.slack
            told = await slack.wait_for(
                lambda: next(iter(slack.messages(slack.dm_channel("U0REP"))), None),
                timeout=4 * BUSY_TIMEOUT_MS / 1000,
            )
        finally:
            lock.rollback()
            lock.close()
        shown = [b["text"] for b in told.blocks or [] if b["text"]["type"] == "plain_text"]
        assert [t["text"] for t in shown] == ["Payroll <stuck> & *late*", "Since 9:00"]
        _, tickets = await outbox_state(running)
        assert tickets == {}


async def test_a_command_the_database_never_takes_is_given_back_as_typed(
    db_url: str, clock: FakeClock
) -> None:
    """`/ticket 原因 1 …` while the lock outlasts a step's patience: "Working on it…", then the
    command as typed (to send again), and the ticket unchanged."""
    path = Path(db_url.split("///", 1)[1])
    async with running_bot(db_url, timer_config(), clock, patience=0.5) as running:
        slack = running.slack
        async with aiohttp.ClientSession() as http:
            assert await report(http, running, 1) == 200
        await settle(running.bot.ctx)
        typed = "原因 1 磁盘满了 <!channel> & *备份*"
        as_sent = "原因 1 磁盘满了 &lt;!channel&gt; &amp; *备份*"  # how Slack delivers it
        lock = await asyncio.to_thread(hold_write_lock, path)
        try:
            sent = await slack.slash_command(
                user="U0ENG1", command="/ticket", text=as_sent, channel="C0SUPPORT"
            )
            assert sent.status == 200
            answer = await slack.wait_for(
                lambda: next(iter(slack.responses()), None), timeout=4 * BUSY_TIMEOUT_MS / 1000
            )
        finally:
            lock.rollback()
            lock.close()
        shown = [
            b["text"]["text"] for b in answer.body["blocks"] if b["text"]["type"] == "plain_text"
        ]
        assert shown == [f"/ticket {typed}"]
        async with running.bot.ctx.db.orm() as session:
            ticket = await session.get(TicketRow, 1)
        assert ticket is not None and ticket.cause == ""


async def test_a_report_still_waiting_for_the_database_when_the_service_stops_is_given_back(
    db_url: str, clock: FakeClock, slack: SlackStandIn
) -> None:
    """The reporter was told "being saved"; the service stops (a deploy) before the database
    took the report: they get what they wrote back by direct message, not silence."""
    path = Path(db_url.split("///", 1)[1])
    lock: sqlite3.Connection | None = None
    try:
        async with running_bot(db_url, timer_config(), clock, slack=slack) as running:
            lock = await asyncio.to_thread(hold_write_lock, path)
            body = report_body("VSTOP01", "Payroll stuck", details="Since 9:00")
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"{running.url}/slack/events",
                    data=body.encode(),
                    headers=signed_headers(body, FORM),
                ) as response,
            ):
                answer = await response.json()
            assert answer["view"]["callback_id"] == "report_pending"
        told = slack.messages(slack.dm_channel("U0REP"))  # by the time the stop is done
    finally:
        if lock is not None:
            lock.rollback()
            lock.close()
    assert len(told) == 1
    shown = [b["text"]["text"] for b in told[0].blocks or [] if b["text"]["type"] == "plain_text"]
    assert shown == ["Payroll stuck", "Since 9:00"]
