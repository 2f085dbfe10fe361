"""Delivery: order per conversation, pacing, failures retried then set aside, refusals set
aside without holding anything, /metrics. The real bot over HTTP against the stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.domain.notices import NoticeKind
from bot.services.delivery import ChannelPacer, DeliverySettings
from bot.sla.policy import Severity
from storage import outbox
from storage.outbox import NewNotice
from storage.tables import OutboxRow
from tests.e2e.test_tickets import say
from tests.escalation.support import open_ticket, settle
from tests.fakes import FakeClock
from tests.harness import FAST, Running, running_bot


def test_the_pacer_allows_a_burst_then_one_a_second_per_conversation() -> None:
    now = [0.0]
    pacer = ChannelPacer(rate=1.0, burst=3, monotonic=lambda: now[0])
    assert [pacer.reserve("C1", 2.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.reserve("C1", 2.0) == 1.0  # queued a second behind
    assert pacer.reserve("C1", 2.0) == 2.0
    assert pacer.reserve("C1", 2.0) is None  # would wait too long: not taken
    assert pacer.busy(2.0) == ["C1"]
    assert pacer.reserve("user:U1", 2.0) == 0.0  # another conversation is not held up
    now[0] = 10.0
    assert pacer.reserve("C1", 2.0) == 0.0 and pacer.wait_for("C1") == 0.0
    assert pacer.busy(2.0) == []


async def test_a_busy_channel_is_paced_in_order_and_nothing_is_lost(
    running: Running, clock: FakeClock
) -> None:
    waits: list[float] = []
    now = [0.0]

    async def pause(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds  # the worker's wait is the time that passes
        await asyncio.sleep(0)

    delivery = running.bot.delivery
    delivery.pacer = ChannelPacer(rate=1.0, burst=2, monotonic=lambda: now[0])
    delivery._pause = pause
    numbers = [(await open_ticket(running.bot.ctx, Severity.C)).number for _ in range(3)]
    await settle(running.bot.ctx)
    top = [m for m in running.slack.messages("C0SUPPORT")]
    assert [m.text.split(" ", 1)[0] for m in top] == [f"#{n}" for n in numbers]
    for message in top:  # each ticket's thread line went out after its message
        assert len(running.slack.messages("C0SUPPORT", message.ts)) == 2
    # Six posts to one channel with a burst of two: four waited their turn, a second each.
    assert len([w for w in waits if w > 0]) == 4 and max(waits) <= 1.0


async def _unsent(running: Running) -> list[OutboxRow]:
    async with running.bot.ctx.db.orm() as session:
        query = select(OutboxRow).where(OutboxRow.sent_at.is_(None)).order_by(OutboxRow.id)
        return list((await session.scalars(query)).all())


async def _metrics(running: Running) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/metrics") as response:
        return await response.text()


async def test_failing_notices_are_retried_counted_and_hold_only_their_conversation(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    slack.fail("conversations.open", status=500, times=None)  # no DM can be opened
    await open_ticket(running.bot.ctx, Severity.A)
    await slack.wait_for(lambda: len(slack.messages("C0SUPPORT")) == 1)

    async def failing() -> bool:
        rows = await _unsent(running)
        return len(rows) == 2 and all(r.attempts >= 1 for r in rows)

    for _ in range(500):
        if await failing():
            break
        await asyncio.sleep(0.01)
    assert await failing()  # the page and the reporter's DM, each in its own conversation
    thread = slack.messages("C0SUPPORT", slack.messages("C0SUPPORT")[0].ts)
    assert len(thread) == 2  # the channel's line went on meanwhile
    metrics = await _metrics(running)
    assert 'escalator_notice_failures_total{kind="dm"}' in metrics
    assert 'escalator_notice_failures_total{kind="page"}' in metrics
    assert "escalator_outbox_failing 2" in metrics
    slack.clear_faults()
    await clock.advance(timedelta(minutes=5))  # past the backoff
    await settle(running.bot.ctx)
    assert len(slack.messages(slack.dm_channel("U0ENG1"))) == 1
    assert len(slack.messages(slack.dm_channel("U0REP"))) == 1


async def test_a_row_waiting_behind_a_failed_one_does_not_make_the_worker_spin(
    running: Running, clock: FakeClock
) -> None:
    """The head of the support channel fails and waits for its retry; the rows behind it
    are due but may not go first. The worker sleeps until the retry: it does not claim
    again and again meanwhile."""
    ctx, delivery = running.bot.ctx, running.bot.delivery
    passes = 0
    real = delivery._claim

    async def counted() -> list[asyncio.Task[None]]:
        nonlocal passes
        passes += 1
        await asyncio.sleep(0)  # a spinning worker still lets the test see it spin
        return await real()

    delivery._claim = counted  # type: ignore[method-assign]
    # The call and slack_sdk's 2 retries of it.
    running.slack.fail("chat.postMessage", status=500, times=3, channel="C0SUPPORT")
    await open_ticket(ctx, Severity.C)
    await open_ticket(ctx, Severity.C)
    for _ in range(500):  # slack_sdk's own retries wait in real time
        rows = await _unsent(running)
        if rows and rows[0].attempts:
            break
        await asyncio.sleep(0.01)
    passes = 0
    delivery.wake()
    await asyncio.sleep(0.3)
    assert passes <= 3, f"{passes} claim passes in 0.3 s while nothing could be sent"
    rows = await _unsent(running)
    assert rows[0].kind == "ticket_message" and rows[0].attempts == 1
    assert [r.conversation for r in rows] == ["C0SUPPORT"] * 4  # behind it, in order
    await clock.advance(timedelta(minutes=10))  # past the retry: all go, in order
    await settle(ctx)
    assert len(running.slack.messages("C0SUPPORT")) == 2


async def test_a_wake_for_conversations_waiting_their_turn_takes_no_claim(
    running: Running, clock: FakeClock
) -> None:
    """Reports and steps tell the worker which conversations they owed notices to. While
    every one of them is still waiting for Slack's posting rate, the wake costs no claim (no
    write transaction); a wake for another conversation, or for anything, claims; and once
    the channel's turn comes its rows go out, in order, none lost."""
    ctx, delivery = running.bot.ctx, running.bot.delivery
    now = [0.0]  # the pacer's time stands still: one post, then a ten-second wait
    delivery.pacer = ChannelPacer(rate=0.1, burst=1, monotonic=lambda: now[0])
    passes = 0
    real = delivery._claim

    async def counted() -> list[asyncio.Task[None]]:
        nonlocal passes
        passes += 1
        return await real()

    delivery._claim = counted  # type: ignore[method-assign]
    await open_ticket(ctx, Severity.C)
    for _ in range(500):  # the ticket's message went; its thread line waits for its turn
        rows = await _unsent(running)
        if len(running.slack.messages("C0SUPPORT")) == 1 and rows and not delivery.busy:
            break
        await asyncio.sleep(0.01)
    assert {r.conversation for r in await _unsent(running)} == {"C0SUPPORT"}
    await asyncio.sleep(0.05)
    passes = 0
    for _ in range(10):
        delivery.wake({"C0SUPPORT"})
        await asyncio.sleep(0.01)
    assert passes == 0, f"{passes} claims while the only conversation owed waited its turn"
    delivery.wake({"user:U0NOBODY"})  # a conversation the last claim did not skip
    await asyncio.sleep(0.05)
    assert passes == 1
    delivery.wake()  # owed anywhere (another replica, a retry): look
    await asyncio.sleep(0.05)
    assert passes == 2
    assert {r.conversation for r in await _unsent(running)} == {"C0SUPPORT"}
    now[0] = 100.0  # the channel's turn has come
    delivery.wake({"C0SUPPORT"})
    await settle(ctx)
    assert passes >= 3
    (message,) = running.slack.messages("C0SUPPORT")
    assert len(running.slack.messages("C0SUPPORT", message.ts)) == 2


async def test_a_wake_that_comes_while_a_claim_runs_is_not_lost(
    running: Running, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notice committed just after a claim read the outbox, its wake arriving while that
    claim still runs: the worker claims again and sends it (it does not take the claim's
    view of what it left for the newest word)."""
    ctx, delivery = running.bot.ctx, running.bot.delivery
    await settle(ctx)
    real = outbox.claim_heads
    calls = 0

    async def late(conn: AsyncConnection, **kwargs: Any) -> list[outbox.Claimed]:
        nonlocal calls
        calls += 1
        if calls == 1:  # as if the row was committed after this claim's read
            delivery.wake()
            return []
        return await real(conn, **kwargs)

    managers = ctx.config.channels.managers
    async with ctx.db.write() as conn:
        await outbox.enqueue_many(
            conn,
            [NewNotice(None, NoticeKind.MANAGERS, {"channel": managers, "text": "late word"})],
            now=clock.now(),
        )
    monkeypatch.setattr(outbox, "claim_heads", late)
    delivery.wake({"user:U0NOBODY"})
    await settle(ctx)
    assert calls >= 2
    assert [m.text for m in running.slack.messages(managers)] == ["late word"]


async def test_an_archived_support_channel_is_set_aside_told_once_and_pages_still_go(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    slack.refuse("chat.postMessage", "is_archived", channel="C0SUPPORT")
    for _ in range(3):
        await open_ticket(running.bot.ctx, Severity.A)
    await settle(running.bot.ctx)  # nothing is left waiting
    page = slack.messages(slack.dm_channel("U0ENG1"))
    assert page and all(f"#{n}" in " ".join(m.text for m in page) for n in (1, 2, 3))
    told = [m for m in slack.messages("C0MANAGERS") if "is_archived" in m.text]
    assert len(told) == 1, [m.text for m in told]
    async with running.bot.ctx.db.orm() as session:
        aside = (
            await session.scalars(select(OutboxRow).where(OutboxRow.set_aside_at.is_not(None)))
        ).all()
    # Three ticket messages and their thread lines (tried as plain posts in the channel).
    assert sorted(r.kind for r in aside) == ["thread"] * 3 + ["ticket_message"] * 3
    assert all("is_archived" in (r.last_error or "") for r in aside)
    metrics = await _metrics(running)
    assert 'escalator_notices_set_aside_total{kind="ticket_message"} 3.0' in metrics
    assert "escalator_outbox_set_aside 6" in metrics


async def test_thread_lines_of_a_refused_ticket_message_go_to_the_channel_naming_it(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    slack.refuse("chat.postMessage", "invalid_blocks", channel="C0SUPPORT", times=1)
    ticket = await open_ticket(running.bot.ctx, Severity.C)
    await settle(running.bot.ctx)
    top = slack.messages("C0SUPPORT")
    assert len(top) == 1 and not top[0].is_reply  # a plain message, not a reply
    assert top[0].text.startswith(f"#{ticket.number} opened by")


@pytest.fixture
async def few_attempts(db_url: str, tconfig: Config, clock: FakeClock) -> AsyncIterator[Running]:
    settings = DeliverySettings(pacing=FAST, max_attempts=3)
    async with running_bot(db_url, tconfig, clock, delivery=settings) as run:
        yield run


async def test_an_unknown_error_is_retried_a_bounded_number_of_times_then_set_aside(
    few_attempts: Running, clock: FakeClock
) -> None:
    running = few_attempts
    # An error Slack gives for its own hiccups: not one no retry can change.
    running.slack.refuse("chat.postMessage", "internal_error", channel="C0SUPPORT")
    await open_ticket(running.bot.ctx, Severity.C)
    for _ in range(100):  # a minute at a time, past each backoff
        await clock.advance(timedelta(minutes=1))
        await asyncio.sleep(0.05)
        if not await _unsent(running):
            break
    await settle(running.bot.ctx)
    async with running.bot.ctx.db.orm() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
    message = next(r for r in rows if r.kind == "ticket_message")
    assert message.set_aside_at is not None and message.attempts == 3
    told = [m.text for m in running.slack.messages("C0MANAGERS")]
    assert len(told) == 1 and "internal_error" in told[0]


async def test_a_bug_in_one_notice_fails_that_notice_only_and_is_set_aside_in_the_end(
    few_attempts: Running, clock: FakeClock
) -> None:
    running = few_attempts
    ctx = running.bot.ctx
    async with ctx.db.write() as conn:
        await outbox.enqueue_many(
            conn,
            [
                NewNotice(None, NoticeKind.DM, {"text": "a DM to no one"}),  # KeyError: user
                NewNotice(None, NoticeKind.CHANNEL, {"channel": "C0RANDOM", "text": "fine"}),
            ],
            now=clock.now(),
        )
    running.bot.delivery.wake()
    await running.slack.wait_for(lambda: running.slack.messages("C0RANDOM"))
    for _ in range(100):  # a minute at a time, past each backoff
        await clock.advance(timedelta(minutes=1))
        await asyncio.sleep(0.05)
        if not await _unsent(running):
            break
    async with ctx.db.orm() as session:
        bad = await session.scalar(select(OutboxRow).where(OutboxRow.kind == "dm"))
    assert bad is not None and bad.set_aside_at is not None and bad.attempts == 3
    assert "KeyError" in (bad.last_error or "")


async def test_a_send_that_fails_outside_its_notice_is_logged_and_sent_later(
    running: Running,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    delivery, ctx = running.bot.delivery, running.bot.ctx
    reserve = delivery.pacer.reserve
    faults: list[str] = []

    def once_broken(conversation: str) -> float:
        if not faults:
            faults.append(conversation)
            raise RuntimeError("a fault before the send")
        return reserve(conversation)

    monkeypatch.setattr(delivery.pacer, "reserve", once_broken)
    async with ctx.db.write() as conn:
        notice = NewNotice(None, NoticeKind.CHANNEL, {"channel": "C0RANDOM", "text": "kept"})
        await outbox.enqueue_many(conn, [notice], now=clock.now())
    delivery.wake()
    for _ in range(200):
        if "a send failed" in caplog.text:
            break
        await asyncio.sleep(0.02)
    assert "a send failed" in caplog.text and "a fault before the send" in caplog.text
    for _ in range(30):  # the claim's lease runs out; the notice is sent then
        await clock.advance(timedelta(minutes=1))
        await asyncio.sleep(0.05)
        if running.slack.messages("C0RANDOM"):
            break
    assert [m.text for m in running.slack.messages("C0RANDOM")] == ["kept"]


async def test_a_breach_line_in_a_ticket_s_thread_goes_before_routine_reminders(
    running: Running, clock: FakeClock
) -> None:
    """Escalation messages go first (SPEC §5): #2's breach notice in its thread is not held
    behind #1's routine reminder owed the same channel at the same moment."""
    slack, ctx = running.slack, running.bot.ctx
    start = clock.now()
    await open_ticket(ctx, Severity.A, "Lane 1 down")
    await say(slack, "U0ENG1", "ack 1")
    await clock.advance(timedelta(minutes=30))
    await settle(ctx)
    await say(slack, "U0ENG1", "cause 1 a card reader")  # #1's plan: 50 % at 90 min
    await open_ticket(ctx, Severity.A, "Lane 2 down")  # #2's diagnose: due at 90 min
    await say(slack, "U0ENG1", "ack 2")
    await settle(ctx)
    await clock.advance(start + timedelta(minutes=90) - clock.now())
    await settle(ctx)
    cards = {m.text.split(" ", 1)[0]: m for m in slack.messages("C0SUPPORT")}
    [reminder] = [
        m for m in slack.messages("C0SUPPORT", cards["#1"].ts) if "50% of the plan" in m.text
    ]
    [breach] = [m for m in slack.messages("C0SUPPORT", cards["#2"].ts) if "breached" in m.text]
    assert float(breach.ts) < float(reminder.ts)


async def test_a_reminder_whose_milestone_was_met_before_it_went_out_is_not_posted(
    running: Running, clock: FakeClock
) -> None:
    """Slack would not take the channel's lines when respond's 50 % reminder fell due, and
    the engineer acknowledged meanwhile: posted late, the reminder would ask for what is
    done. It is not posted; the acknowledgement's line is (SPEC §6: messages stay true)."""
    slack, ctx = running.slack, running.bot.ctx
    await open_ticket(ctx, Severity.A)
    await settle(ctx)
    card = slack.messages("C0SUPPORT")[0]
    slack.fail("chat.postMessage", status=500, times=None, channel="C0SUPPORT")
    await clock.advance(timedelta(minutes=8))  # respond's 50 % was at 7.5 minutes

    async def reminder_failed() -> bool:
        rows = await _unsent(running)
        return any("reminder" in str(r.payload.get("stage")) and r.attempts for r in rows)

    for _ in range(500):
        if await reminder_failed():
            break
        await asyncio.sleep(0.01)
    assert await reminder_failed()
    await say(slack, "U0ENG1", "ack 1")
    slack.clear_faults()
    await clock.advance(timedelta(minutes=5))  # past the backoff
    running.bot.delivery.wake()
    await settle(ctx)
    thread = [m.text for m in slack.messages("C0SUPPORT", card.ts)]
    assert any("acknowledged" in t for t in thread), thread
    assert not any("50%" in t for t in thread), thread
