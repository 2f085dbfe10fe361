"""At each start the open tickets follow the holiday calendar as it is now (SPEC §4). That
pass runs beside the bot, over real HTTP against the stand-in: the bot answers `/healthz` and
commands, reads and steps, while it goes on, `/healthz` says when it is done, and then every
open ticket has its next stage armed and its deadlines stored. A pass that finds every ticket
as the calendar says writes nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from sqlalchemy import event, func, select

from bot.sandbox.standin import SlackStandIn
from bot.services.calendar_start import follow_calendar
from bot.sla.policy import Severity
from storage import tickets as ticket_store
from storage.tables import TicketRow, TimerRow
from tests.escalation.support import timer_config
from tests.factories import NEW_TICKET, NOW
from tests.fakes import FakeClock
from tests.harness import Running, running_bot

# Enough open tickets that the pass takes seconds (about 0.2-0.4 ms a ticket), while a
# request takes milliseconds.
TICKETS = 6_000
# What the pass writes (the delivery worker may write to the tickets meanwhile: a card's place)
PASS_WRITES = (
    "UPDATE tickets SET respond_due",
    "UPDATE timers",
    "INSERT INTO timers",
    "DELETE FROM timers",
)
REPORT = replace(NEW_TICKET, severity=Severity.B)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def health(running: Running) -> dict[str, object]:
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/healthz") as got:
        assert got.status == 200
        body = await got.json()
    assert isinstance(body, dict)
    return body


async def armed_and_stored(running: Running) -> tuple[int, int]:
    """How many tickets have a pending timer, and how many have their deadlines stored (a
    note keeps those of the version before it: it moves no deadline)."""
    async with running.bot.ctx.db.orm() as session:
        armed = await session.scalar(
            select(func.count(func.distinct(TimerRow.ticket_number))).where(
                TimerRow.fired_at.is_(None)
            )
        )
        stored = await session.scalar(
            select(func.count())
            .select_from(TicketRow)
            .where(TicketRow.deadlines_version.is_not(None))
        )
    return int(armed or 0), int(stored or 0)


async def test_the_bot_answers_while_the_start_pass_goes_on_and_says_when_it_is_done(
    db_url: str, clock: FakeClock, slack: SlackStandIn
) -> None:
    config = timer_config()
    async with running_bot(db_url, config, clock, slack=slack) as run:  # creates the schema
        async with run.bot.ctx.db.write() as conn:  # tickets stored with no timer yet
            numbers = await ticket_store.take_numbers(conn, TICKETS)
            rows = [(replace(REPORT, summary=f"problem {n}"), n, f"seed:{n}") for n in numbers]
            await ticket_store.insert_many(conn, rows, now=NOW)
        assert await armed_and_stored(run) == (0, 0)

    async with running_bot(db_url, config, clock, slack=slack, follow_calendar=False) as run:
        pass_ = run.bot.calendar_followed
        assert pass_ is not None
        assert (await health(run))["calendar"] == "following"
        shown = await slack.slash_command(
            user="U0ENG1", command="/ticket", text="show 1", channel="C0SUPPORT"
        )
        noted = await slack.slash_command(
            user="U0ENG1", command="/ticket", text="note 2 checked the logs", channel="C0SUPPORT"
        )
        assert not pass_.done(), "the pass ended before the requests: make TICKETS larger"
        assert shown.status == 200 and "problem 1" in shown.body
        assert noted.status == 200 and "#2" in noted.body

        await pass_
        assert (await health(run))["calendar"] == "followed"
        assert await armed_and_stored(run) == (TICKETS, TICKETS)
        async with run.bot.ctx.db.orm() as session:
            note = await session.scalar(select(TicketRow.version).where(TicketRow.number == 2))
        assert note == 2  # the note stood (the pass moves no ticket's version)

    # Once more: everything is as the calendar says already, so nothing is written again.
    async with running_bot(db_url, config, clock, slack=slack) as run:
        engine = run.bot.ctx.db.engine.sync_engine
        written: list[int] = []

        def count(_conn: object, cursor: Any, statement: str, *_args: object) -> None:
            if statement.startswith(PASS_WRITES):
                written.append(cursor.rowcount)

        event.listen(engine, "after_cursor_execute", count)
        try:
            assert await follow_calendar(run.bot.ctx) == TICKETS
        finally:
            event.remove(engine, "after_cursor_execute", count)
    assert written, "the pass wrote with no statement at all: the check saw nothing"
    if run.bot.ctx.db.sqlite_file is not None:  # asyncpg's executemany gives no row count
        assert sum(written) == 0
