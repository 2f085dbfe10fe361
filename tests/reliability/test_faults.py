"""Slack's Web API fails for a stretch (500s, 429s with Retry-After, slow answers) while reports
and commands keep arriving: once it recovers, every notice is delivered, once, in order per
ticket (SPEC §7). The bot's clock is a fake one, advanced to let the backoff retries run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.config import Config
from bot.sandbox.standin import ANY_METHOD, Fault
from bot.services.delivery import DeliverySettings
from storage.outbox.notices import URGENT
from storage.tables import OutboxRow, TicketRow
from tests.fakes import FakeClock
from tests.harness import FAST, Running, running_bot
from tests.reliability.support import (
    FORM,
    LIMIT,
    LONG,
    Ledger,
    OutboxItem,
    bolt_idle,
    ledger,
    report_body,
    signed_headers,
    ticket_number,
    until,
)

REPORTS_PER_PHASE = 15 if LONG else 4
NOTES_PER_PHASE = 15 if LONG else 4
STEPS_PER_PHASE = 12 if LONG else 4  # clock advances while Slack is failing


async def outbox_state(running: Running) -> tuple[list[OutboxItem], dict[int, Any]]:
    async with running.bot.ctx.db.orm() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
        tickets = (await session.scalars(select(TicketRow))).all()
    items = [
        OutboxItem(
            r.id,
            r.ticket_number,
            r.kind,
            dict(r.payload),
            r.sent_at is not None,
            r.priority == URGENT,
        )
        for r in rows
    ]
    return items, {t.number: (t.post_channel, t.message_ts) for t in tickets}


async def drain(running: Running, clock: FakeClock) -> None:
    """Advance the bot's clock until every notice is sent (bounded in steps and seconds)."""

    async def all_sent() -> bool:
        items, _ = await outbox_state(running)
        return all(i.sent for i in items)

    for _ in range(60):
        await bolt_idle()
        if await all_sent():
            return
        await clock.advance(timedelta(minutes=1))
        try:
            await until(all_sent, limit=2.0)
        except AssertionError:
            continue
        return
    await until(all_sent, limit=LIMIT, what="every notice to be sent")


async def report(http: aiohttp.ClientSession, running: Running, n: int) -> int:
    body = report_body(f"VFAULT{n:05d}", f"Fault report {n}", yes=n % 2 == 0)
    async with http.post(
        f"{running.url}/slack/events", data=body.encode(), headers=signed_headers(body, FORM)
    ) as response:
        assert response.status == 200
        answer = await response.json()
    number = ticket_number(json.dumps(answer))
    assert number is not None, answer
    return number


async def note(running: Running, number: int, n: int) -> None:
    sent = await running.slack.slash_command(
        user="U0ENG1", command="/ticket", text=f"note {number} step {n} on #{number}"
    )
    assert sent.status == 200 and "Note added" in sent.body, sent.body


def check(result: Ledger) -> None:
    assert sum(result.owed.values()) > 0
    assert result.missing == {}, result.summary()
    assert result.twice == {}, result.summary()
    assert set(result.ticket_messages.values()) == {1}, result.ticket_messages
    assert result.thread_order_ok


PHASES: dict[str, Callable[[Any], Fault]] = {
    "500": lambda slack: slack.fail(ANY_METHOD, status=500, times=None),
    "429": lambda slack: slack.rate_limit(ANY_METHOD, retry_after=1, times=None),
    "slow": lambda slack: slack.hang(ANY_METHOD, seconds=1.0, times=None),
}


async def test_every_notice_arrives_once_and_in_order_after_slack_recovers(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    numbers: list[int] = []
    counter = 0
    faulted = 0
    async with aiohttp.ClientSession() as http:
        for n in range(2):
            numbers.append(await report(http, running, n))
        await drain(running, clock)
        for name, inject in PHASES.items():
            inject(slack)
            calls_before = len(slack.calls())
            for _ in range(REPORTS_PER_PHASE):
                counter += 1
                numbers.append(await report(http, running, 100 + counter))
            for k in range(NOTES_PER_PHASE):
                await note(running, numbers[(counter + k) % len(numbers)], counter * 100 + k)
            for _ in range(STEPS_PER_PHASE):
                seen = len(slack.calls())
                await clock.advance(timedelta(seconds=30))
                await until(lambda s=seen: len(slack.calls()) > s, what=f"calls during {name}")
            faulted += sum(1 for c in slack.calls()[calls_before:] if c.fault is not None)
            slack.clear_faults()
    await drain(running, clock)
    items, tickets = await outbox_state(running)
    result = ledger(slack, items, tickets)
    print(f"faults: {faulted} failed or slow calls; {result.summary()}")  # for the record
    assert faulted >= len(PHASES) * STEPS_PER_PHASE
    assert len(tickets) == 2 + len(PHASES) * REPORTS_PER_PHASE
    check(result)


@pytest.fixture
async def impatient(db_url: str, config: Config, clock: FakeClock) -> AsyncIterator[Running]:
    """The bot of ``running``, with a Web API call given 1 s (Slack answers after 3)."""
    settings = DeliverySettings(pacing=FAST, call_timeout=1.0)
    async with running_bot(db_url, config, clock, delivery=settings) as run:
        yield run


async def test_a_call_slack_answers_too_late_is_not_posted_twice(
    impatient: Running, clock: FakeClock
) -> None:
    running, slack = impatient, impatient.slack
    slack.hang("chat.postMessage", seconds=3.0, times=1)
    async with aiohttp.ClientSession() as http:
        await report(http, running, 1)
    await until(lambda: any(c.fault for c in slack.calls()), what="the slow call")
    await asyncio.sleep(3.5)  # the slow call completes at Slack meanwhile
    await drain(running, clock)
    items, tickets = await outbox_state(running)
    check(ledger(slack, items, tickets))
    # the bot gave up after 1 s and looked in the channel before posting again
    assert slack.calls("conversations.history")
