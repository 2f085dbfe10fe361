"""PostgreSQL away for a while under load: the test's database refuses connections and every
connection the bot holds is ended, as in a server restart, while reports arrive and timers fall
due. Reports wait it out (answered "being saved"), the workers fail their passes, log and carry
on; once the database is back, every report is a ticket and every notice goes out, once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import make_url

from bot.sla.policy import Severity
from tests.databases import PostgresServer
from tests.escalation.support import open_ticket, settle, timer_config
from tests.fakes import FakeClock
from tests.harness import Running, running_bot
from tests.reliability.support import (
    FORM,
    report_body,
    signed_headers,
    until,
)
from tests.reliability.test_outage import meanwhile, recovered

pytestmark = pytest.mark.postgres_only

OUTAGE = 8.0  # seconds the database is away


@pytest.fixture
async def running(db_url: str, clock: FakeClock) -> AsyncIterator[Running]:
    async with running_bot(db_url, timer_config(), clock) as run:
        yield run


@asynccontextmanager
async def database_away(pg_server: PostgresServer | None, db_url: str) -> AsyncIterator[None]:
    """The test's database refuses connections and every one held is ended (as in a server
    restart) for the ``async with`` block; then it takes connections again."""
    assert pg_server is not None
    name = make_url(db_url).database
    await asyncio.to_thread(
        pg_server.admin,
        f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )
    try:
        yield
    finally:
        await asyncio.to_thread(pg_server.admin, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


async def report(http: aiohttp.ClientSession, running: Running, n: int) -> dict[str, object]:
    body = report_body(f"VPGO{n:04d}", f"Outage report {n}", yes=True)
    async with http.post(
        f"{running.url}/slack/events", data=body.encode(), headers=signed_headers(body, FORM)
    ) as response:
        assert response.status == 200
        answer: dict[str, object] = await response.json()
        return answer


async def test_postgresql_away_loses_no_report_and_sends_nothing_twice(
    running: Running, clock: FakeClock, db_url: str, pg_server: PostgresServer | None
) -> None:
    async with aiohttp.ClientSession() as http:
        for n in range(4):
            await report(http, running, n)
        await settle(running.bot.ctx)
        async with database_away(pg_server, db_url):
            late = [asyncio.create_task(report(http, running, 100 + n)) for n in range(3)]
            await meanwhile(clock, OUTAGE)
        answers = await asyncio.gather(*late)
    views = [a.get("view") for a in answers]
    assert all(isinstance(v, dict) and v["callback_id"] == "report_pending" for v in views)
    await recovered(running, tickets=7, what="postgres outage")


async def test_metrics_answer_while_postgresql_is_away(
    running: Running, db_url: str, pg_server: PostgresServer | None
) -> None:
    """/metrics is what tells of an outage (workers' errors, whether they are up): it answers
    while the database is away, without the lines it reads there."""
    async with (
        database_away(pg_server, db_url),
        aiohttp.ClientSession() as http,
        http.get(f"{running.url}/metrics") as got,
    ):
        status, text = got.status, await got.text()
    assert status == 200, text
    assert "escalator_worker_up" in text and "escalator_worker_errors_total" in text
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/metrics") as got:
        assert "escalator_outbox_pending" in await got.text()  # back with the database


LONG_OUTAGE = 20.0  # seconds: long enough for the workers' waits between tries to grow


async def test_after_a_longer_outage_the_workers_carry_on_within_seconds(
    running: Running, clock: FakeClock, db_url: str, pg_server: PostgresServer | None
) -> None:
    """The workers wait longer between their tries while the database stays away, but not
    so long that, once it is back, a page that fell due meanwhile waits many seconds more."""
    ticket = await open_ticket(running.bot.ctx, Severity.A)
    await settle(running.bot.ctx)
    async with database_away(pg_server, db_url):
        await clock.advance(timedelta(minutes=8))  # the 50 % respond reminder falls due
        await asyncio.sleep(LONG_OUTAGE)
    back = time.monotonic()
    slack = running.slack

    def reminded() -> bool:
        return any(f"#{ticket.number}" in m.text and "50%" in m.text for m in slack.all_messages())

    await until(reminded, what="the reminder that fell due during the outage")
    late = time.monotonic() - back
    print(f"the reminder went out {late:.1f} s after the database came back")
    assert late <= 6.0
