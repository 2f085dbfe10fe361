"""Class C over real HTTP across a holiday and a weekend: reminders in working time only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config
from bot.sla.policy import Severity
from tests.escalation.support import open_ticket, settle
from tests.escalation.test_story_a import thread
from tests.fakes import FakeClock
from tests.harness import Running

SH = ZoneInfo("Asia/Shanghai")
REPORTED = datetime(2026, 9, 24, 16, 0, tzinfo=SH)  # Thursday before the Mid-autumn Festival


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(REPORTED.astimezone(UTC))


async def test_class_c_across_a_holiday_and_a_weekend(
    running: Running, clock: FakeClock, tconfig: Config
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    await open_ticket(ctx, Severity.C)
    await settle(ctx)
    expected = {
        datetime(2026, 9, 28, 10, 0, tzinfo=SH): "75% of the respond time",
        datetime(2026, 9, 28, 14, 30, tzinfo=SH): "75% of the diagnose time",
        datetime(2026, 9, 29, 14, 37, 30, tzinfo=SH): "75% of the plan time",
    }
    hourly = {REPORTED + timedelta(minutes=30 * n) for n in range(1, 2 * 24 * 6)}
    checkpoints = sorted(hourly | set(expected) | {t - timedelta(seconds=1) for t in expected})
    seen: list[tuple[datetime, str]] = []
    for checkpoint in checkpoints:
        before = len(thread(slack))
        await clock.advance(checkpoint - clock.now())
        await settle(ctx)
        seen += [(checkpoint, m.text) for m in thread(slack)[before:]]
    assert [(at, next(k for k in expected.values() if k in text)) for at, text in seen] == list(
        expected.items()
    )
    assert all(tconfig.calendar.is_working(at) for at, _ in seen)
    assert all(not m.is_reply for m in slack.messages(slack.dm_channel("U0ENG1")))
    # C and D do not escalate: no pages, no breach notices.
    assert len(slack.messages(slack.dm_channel("U0ENG1"))) == 0
    assert slack.messages("C0MANAGERS") == []


async def test_class_c_s_reminder_due_while_the_bot_was_down_is_sent_past_the_deadline(
    running: Running, clock: FakeClock
) -> None:
    # Down from the report until Monday 12:00: respond's 75 % (Monday 10:00) and its deadline
    # (Monday 11:00, which sends nothing but the card) fell due; the reminder is sent at once.
    slack, ctx = running.slack, running.bot.ctx
    await open_ticket(ctx, Severity.C)
    await settle(ctx)
    await clock.advance(datetime(2026, 9, 28, 12, 0, tzinfo=SH) - clock.now())
    await settle(ctx)
    said = [m.text for m in thread(slack) if "% of the" in m.text]
    assert len(said) == 1 and "75% of the respond time" in said[0], said
    assert "overdue by 1 hour" in said[0], said
