"""Urgent first, over real HTTP against the stand-in with Slack's real posting rate (one
message a second per conversation): a page never waits behind the support channel, not in a
burst of reports, not when the channel is archived, not after a kill -9 while Slack held a
post open. Times are read from the stand-in's record of calls; the bounds are Slack's
posting rate (a page that queued behind the channel's backlog would be tens of seconds
late), not a measure of speed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.config import Config
from bot.sandbox.standin import RecordedCall, SlackStandIn
from storage.tables import OutboxRow, TicketRow
from tests.escalation.support import timer_config
from tests.fakes import FakeClock
from tests.harness import Running, running_bot
from tests.reliability.support import (
    FORM,
    LIMIT,
    ServeProcess,
    query,
    report_body,
    signed_headers,
    ticket_number,
    until,
)

PAGE_BOUND = 2.0  # seconds from a report to the page naming it: within Slack's posting rate
PRIMARY = "U0ENG1"  # on call at the tests' start (timer_config's rotation)
HOLD = 8.0  # seconds the stand-in holds a post open (longer than a restart takes)


@pytest.fixture
def tconfig() -> Config:
    return timer_config()


@pytest.fixture
async def paced(db_url: str, tconfig: Config, clock: FakeClock) -> AsyncIterator[Running]:
    """The bot with Slack's real posting rate: 1 a second per conversation, bursts of 4."""
    async with running_bot(db_url, tconfig, clock, real_pacing=True) as run:
        yield run


async def _report(http: aiohttp.ClientSession, url: str, view_id: str) -> tuple[float, str]:
    body = report_body(view_id, f"Burst {view_id}", yes=True)  # yes: class A
    sent_at = time.time()
    async with http.post(
        f"{url}/slack/events", data=body.encode(), headers=signed_headers(body, FORM)
    ) as response:
        assert response.status == 200
        return sent_at, await response.text()


async def burst(running: Running, n: int, prefix: str) -> dict[int, float]:
    """``n`` class A reports at once through the report form; ticket number -> sent at."""
    async with aiohttp.ClientSession() as http:
        answers = await asyncio.gather(
            *(_report(http, running.url, f"{prefix}{k:04d}") for k in range(n))
        )
    keys = {f"view:{prefix}{k:04d}": at for k, (at, _) in enumerate(answers)}
    numbers = [ticket_number(body) for _, body in answers]
    async with running.bot.ctx.db.orm() as session:
        rows = (await session.execute(select(TicketRow.number, TicketRow.intake_key))).all()
    found = {number: keys[key] for number, key in rows if key in keys}
    assert len(found) == n and all(x is None or x in found for x in numbers)
    return found


def page_calls(slack: SlackStandIn, user: str) -> list[RecordedCall]:
    dm = slack.dm_channel(user)
    return [
        c
        for c in slack.calls("chat.postMessage")
        if c.ok and c.response and c.response.get("channel") == dm
    ]


def paged(call: RecordedCall) -> list[int]:
    """The tickets a page message names (one actions or settled block per ticket)."""
    raw = call.params.get("blocks") or "[]"
    blocks: list[dict[str, Any]] = json.loads(raw) if isinstance(raw, str) else raw
    return [
        int(str(b["block_id"]).removeprefix("page_").split("_")[0])
        for b in blocks
        if str(b.get("block_id", "")).endswith("_head")
    ]


def latencies(slack: SlackStandIn, reported: dict[int, float]) -> dict[int, float]:
    first: dict[int, float] = {}
    for call in page_calls(slack, PRIMARY):
        for number in paged(call):
            first.setdefault(number, call.time - reported[number])
    return first


async def unsent_in(running: Running, conversation: str) -> int:
    async with running.bot.ctx.db.orm() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.sent_at.is_(None), OutboxRow.conversation == conversation)
            )
            or 0
        )


async def test_a_burst_of_20_class_a_reports_pages_each_within_the_posting_rate(
    paced: Running,
) -> None:
    slack = paced.slack
    reported = await burst(paced, 20, "VBURST")
    await until(lambda: len(latencies(slack, reported)) == 20, what="every ticket paged")
    backlog = await unsent_in(paced, "C0SUPPORT")
    late = latencies(slack, reported)
    calls = page_calls(slack, PRIMARY)
    named = [n for call in calls for n in paged(call)]
    print(
        f"20 reports: {len(calls)} page messages; page latency max {max(late.values()):.2f} s; "
        f"support channel still owes {backlog} posts"
    )
    assert sorted(named) == sorted(reported)  # each ticket named in one page, once
    assert len(calls) < 20  # pages due together went as one message
    assert max(late.values()) <= PAGE_BOUND, late
    # The channel's own backlog (40 posts at one a second) was far from done meanwhile.
    assert backlog > 10


async def test_an_archived_support_channel_does_not_hold_the_pages(paced: Running) -> None:
    slack = paced.slack
    slack.refuse("chat.postMessage", "is_archived", channel="C0SUPPORT")
    reported = await burst(paced, 5, "VARCH")
    await until(lambda: len(latencies(slack, reported)) == 5, what="every ticket paged")
    assert max(latencies(slack, reported).values()) <= PAGE_BOUND
    await until(lambda: [m for m in slack.messages("C0MANAGERS") if "is_archived" in m.text])

    async def drained() -> bool:  # set aside, not waiting: the channel holds nothing up
        return await unsent_in(paced, "C0SUPPORT") == 0

    await until(drained, what="the refused posts set aside")
    told = [m for m in slack.messages("C0MANAGERS") if "is_archived" in m.text]
    assert len(told) == 1


async def test_kill_9_while_slack_holds_a_post_open_then_everything_once_soon_after_restart(
    tmp_path: Path, slack: SlackStandIn, db_url: str
) -> None:
    db = db_url
    bot = ServeProcess(tmp_path, slack, db=db)  # the outbox lease: 40 s, not shortened
    slack.bot_events_url = bot.events_url
    try:
        await bot.start()
        # Slack takes the bot's posts and holds them open; the bot dies meanwhile.
        slack.hang("chat.postMessage", HOLD, times=None, drop_if_gone=True)
        async with aiohttp.ClientSession() as http:
            _, body = await _report(http, bot.url, "VKILL9")
        number = ticket_number(body)
        assert number is not None

        def held() -> int:
            return len([c for c in slack.calls("chat.postMessage") if c.fault])

        await until(lambda: held() >= 2, what="the ticket message and the page held open")
        bot.kill()
        slack.clear_faults()
        started = time.time()
        await bot.start()
        restarted = time.time()  # healthy again
        dm = slack.dm_channel(PRIMARY)

        def delivered() -> bool:
            top = [m for m in slack.messages("C0SUPPORT") if m.user == slack.bot_user_id]
            return bool(top) and bool(slack.messages(dm))

        await until(delivered, limit=LIMIT, what="the ticket message and the page")
        done = [
            c.time
            for c in slack.calls("chat.postMessage")
            if c.ok and c.time >= started and c.params.get("channel") in ("C0SUPPORT", dm)
        ]
        await until(
            lambda: not query(db, "select 1 from outbox where sent_at is null"),
            what="every notice",
        )

        def dropped() -> list[RecordedCall]:
            return [c for c in slack.calls("chat.postMessage") if (c.fault or "").endswith("ped")]

        # The posts Slack held end after HOLD s with their caller gone: never done.
        await until(lambda: len(dropped()) >= 2, what="the held posts to end")
    finally:
        bot.stop()
    print(f"after the restart: ticket message and page in {max(done) - restarted:.2f} s")
    assert max(done) - restarted <= 5.0  # not after the dead process's 40 s lease
    top = [m for m in slack.messages("C0SUPPORT") if m.user == slack.bot_user_id]
    assert len(top) == 1 and top[0].text.startswith(f"#{number} ")
    assert len(slack.messages(dm)) == 1 and f"#{number}" in slack.messages(dm)[0].text
