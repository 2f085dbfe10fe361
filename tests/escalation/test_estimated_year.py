"""A year without an official holiday plan, over real HTTP against the stand-in: deadlines
are estimated and marked provisional, the managers are told once (also across restarts),
and official data in the config replaces the estimate at the next start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config
from bot.sandbox.standin import SlackStandIn, StoredMessage
from bot.sla.policy import Severity
from tests.escalation.support import open_ticket, pending, settle, timer_config
from tests.fakes import FakeClock
from tests.harness import running_bot

SH = ZoneInfo("Asia/Shanghai")
# Thursday, half an hour before closing; Friday 2027-01-01 is New Year's Day (estimated).
REPORTED = datetime(2026, 12, 31, 17, 0, tzinfo=SH)
ESTIMATED = "No official holiday plan for 2027 yet"
OFFICIAL = "The holiday plan for 2027 is official now"


def official_config() -> Config:
    """2027 made official by the config: its (made-up) plan also gives Monday Jan 4 off."""
    return timer_config(
        calendar={
            "hours": "08:30-12:00,13:30-17:30",
            "holidays": "CN",
            "extra_holidays": ["2027-01-01", "2027-01-04"],
            "own_holiday_years": [2027],
        }
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(REPORTED.astimezone(UTC))


def managers(slack: SlackStandIn) -> list[str]:
    return [m.text for m in slack.messages("C0MANAGERS")]


def deadline_fields(card: StoredMessage) -> list[str]:
    [block] = [b for b in card.blocks or [] if b.get("block_id") == "deadlines"]
    return [str(field["text"]) for field in block["fields"]]


async def test_estimated_year_is_told_once_and_replaced_by_official_data_at_the_next_start(
    db_url: str, clock: FakeClock, slack: SlackStandIn
) -> None:
    estimated = timer_config()
    async with running_bot(db_url, estimated, clock, slack=slack) as run:
        ctx = run.bot.ctx
        ticket = await open_ticket(ctx, Severity.C)
        await open_ticket(ctx, Severity.C, "Second report, same year")
        await open_ticket(ctx, Severity.A, "A runs 24x7: no holidays asked")
        await settle(ctx)
        before = await pending(ctx, ticket.number)
        schedule = ctx.schedule(ticket)
    # 0.5 h on Dec 31, then Monday Jan 4: the respond deadline depends on estimated 2027.
    assert schedule.respond == datetime(2027, 1, 4, 12, 0, tzinfo=SH)
    assert schedule.is_provisional and schedule.estimated_years == (2027,)
    assert before and all(due.astimezone(SH).date().day == 4 for due in before.values())
    assert [ESTIMATED in text for text in managers(slack)] == [True]
    card = slack.messages("C0SUPPORT")[0]
    assert all("(provisional)" in field for field in deadline_fields(card))

    # A restart with the same data: nobody is told again.
    async with running_bot(db_url, estimated, clock, slack=slack) as run:
        await settle(run.bot.ctx)
        assert await pending(run.bot.ctx, ticket.number) == before
    assert len(managers(slack)) == 1

    # The admin lists 2027's plan: at the next start the timers follow it, the card loses
    # its marks, and the managers hear that the year is official.
    edits = len(slack.messages("C0SUPPORT")[0].edits)
    async with running_bot(db_url, official_config(), clock, slack=slack) as run:
        await settle(run.bot.ctx)
        after = await pending(run.bot.ctx, ticket.number)
        schedule = run.bot.ctx.schedule(ticket)
    assert after == {key: due + timedelta(days=1) for key, due in before.items()}
    assert schedule.respond == datetime(2027, 1, 5, 12, 0, tzinfo=SH)
    assert not schedule.is_provisional
    card = slack.messages("C0SUPPORT")[0]
    assert len(card.edits) > edits
    fields = deadline_fields(card)
    assert fields and not any("(provisional)" in field for field in fields)
    assert [OFFICIAL in text for text in managers(slack)] == [False, True]

    # Once is enough: a further start changes nothing and tells nobody.
    edits = len(card.edits)
    async with running_bot(db_url, official_config(), clock, slack=slack) as run:
        await settle(run.bot.ctx)
        assert await pending(run.bot.ctx, ticket.number) == after
    assert len(managers(slack)) == 2
    assert len(slack.messages("C0SUPPORT")[0].edits) == edits


async def test_a_ticket_within_the_official_year_is_not_marked(
    db_url: str, slack: SlackStandIn
) -> None:
    clock = FakeClock(datetime(2026, 12, 28, 9, 0, tzinfo=SH).astimezone(UTC))
    async with running_bot(db_url, timer_config(), clock, slack=slack) as run:
        ticket = await open_ticket(run.bot.ctx, Severity.C)
        await settle(run.bot.ctx)
        assert not run.bot.ctx.schedule(ticket).is_provisional
    card = slack.messages("C0SUPPORT")[0]
    assert not any("(provisional)" in field for field in deadline_fields(card))
    assert managers(slack) == []
