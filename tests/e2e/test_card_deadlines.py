"""The card of a resolved or closed ticket: a milestone it never met no longer runs, so
it is shown as not met, without a time left that would soon be false (SPEC §6)."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox.standin import StoredMessage
from bot.sla.policy import Severity
from tests.e2e.test_messages_true import deadline_fields, fire
from tests.e2e.test_signoff_rounds import resolve
from tests.e2e.test_tickets import open_ticket, say
from tests.fakes import FakeClock
from tests.harness import Running


def fields_now(running: Running, card: StoredMessage) -> list[str]:
    found = running.slack.message(card.channel, card.ts)
    return deadline_fields(found) if found is not None else []


async def test_a_resolved_tickets_card_shows_no_time_left_once_a_deadline_passed(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    card = await open_ticket(running, Severity.B)
    await say(slack, "U0ENG1", "ack 1")
    await resolve(slack, card, "fixed")
    await slack.wait_for(lambda: any("not met" in f for f in fields_now(running, card)))
    await clock.advance(timedelta(hours=5))  # past diagnose (4 h)
    await fire(running)
    running.bot.delivery.wake()
    fields = fields_now(running, card)
    assert not any("left" in f for f in fields), fields
    assert any("Diagnose by" in f and "not met" in f for f in fields), fields


async def test_a_closed_tickets_card_shows_no_time_left(running: Running, clock: FakeClock) -> None:
    slack = running.slack
    card = await open_ticket(running, Severity.B)
    await say(slack, "U0ENG1", "ack 1")
    await say(slack, "U0ENG1", "close 1")
    await slack.wait_for(lambda: any("not met" in f for f in fields_now(running, card)))
    await clock.advance(timedelta(days=2))
    await fire(running)
    running.bot.delivery.wake()
    assert not any("left" in f for f in fields_now(running, card))


async def test_a_waiting_tickets_card_keeps_its_deadlines_and_says_they_are_paused(
    running: Running, clock: FakeClock
) -> None:
    """Waiting for the customer stops the C and D clocks: the card still lists every
    milestone, the met one as met and the others as paused, not nothing at all."""
    slack = running.slack
    card = await open_ticket(running, Severity.C)
    await clock.advance(timedelta(minutes=10))
    await say(slack, "U0ENG1", "ack 1")
    await clock.advance(timedelta(minutes=20))
    await say(slack, "U0ENG1", "wait 1")
    await slack.wait_for(lambda: any("paused" in f for f in fields_now(running, card)))
    fields = fields_now(running, card)
    assert len(fields) == 3, fields  # respond, diagnose, plan
    assert "Respond" in fields[0] and "in time" in fields[0], fields
    assert all("paused" in f and "left" not in f for f in fields[1:]), fields
    await say(slack, "U0ENG1", "resume 1")
    await slack.wait_for(lambda: not any("paused" in f for f in fields_now(running, card)))
    assert all("left" in f for f in fields_now(running, card)[1:])
