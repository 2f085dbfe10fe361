"""Reopening a ticket starts its respond milestone again from the reopen (SPEC §4): the
on-call primary is paged again as at a report, the card counts from the reopen, and the
month's figures still hold the first acknowledgement to the first promise."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.tickets import deadlines_of, kept
from bot.sandbox.standin import SlackStandIn, StoredMessage
from bot.services.steps import load
from bot.sla.policy import Severity
from tests.e2e.test_tickets import say
from tests.escalation.support import fired, open_ticket, settle
from tests.fakes import FakeClock
from tests.harness import Running


def pages(slack: SlackStandIn, user: str) -> list[StoredMessage]:
    return [m for m in slack.messages(slack.dm_channel(user)) if "#1" in m.text]


async def test_reopening_starts_respond_from_the_reopen_and_pages_the_primary_again(
    running: Running, clock: FakeClock
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    await open_ticket(ctx, Severity.A)
    await settle(ctx)
    assert ["needs a response" in m.text for m in pages(slack, "U0ENG1")] == [True]
    await clock.advance(timedelta(minutes=5))
    assert "You acknowledged #1" in await say(slack, "U0ENG1", "ack 1")
    await say(slack, "U0ENG1", "close 1")
    await clock.advance(timedelta(hours=3))  # long past the first respond deadline
    await settle(ctx)
    reopened_at = clock.now()
    assert "open again" in await say(slack, "U0REP", "reopen 1")
    await settle(ctx)

    ticket = await load(ctx, 1)
    assert ctx.deadlines(ticket)["respond"] == reopened_at + timedelta(minutes=15)
    # The primary is paged again, as at a report; the secondary is not paged at once.
    primary = pages(slack, "U0ENG1")
    assert len(primary) == 2 and "needs a response" in primary[-1].text
    assert pages(slack, "U0ENG3") == []
    assert {"respond:page:primary", "respond:page:primary@1"} <= set(await fired(ctx, 1))
    card = slack.messages("C0SUPPORT")[0]
    block = next(b for b in card.blocks or [] if b.get("block_id") == "deadlines")
    respond = next(f["text"] for f in block["fields"] if "Respond" in f["text"])
    assert "15 minutes left" in respond

    # The month's figures: the first acknowledgement came by the first promise, so kept.
    promised = deadlines_of(
        ticket, policy=ctx.config.policy, calendar=ctx.config.calendar, as_promised=True
    )
    assert promised.respond is not None and promised.respond < reopened_at
    assert kept(ticket, promised, clock.now())["respond"] is True
    assert ticket.first_acknowledged_at is not None and ticket.acknowledged_at is None

    # Not acknowledged again in time: the secondary is paged at the new deadline.
    await clock.advance(timedelta(minutes=15))
    await settle(ctx)
    assert [m.text for m in pages(slack, "U0ENG3")][-1].startswith(":rotating_light:")
    assert "respond:page:secondary@1" in await fired(ctx, 1)
