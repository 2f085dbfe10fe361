"""A page settled when its step was taken stays settled, and names who took the step: a
later reopen does not bring back its buttons, a later reassign does not rewrite who."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox.standin import StoredMessage
from bot.sla.policy import Severity
from tests.e2e.test_tickets import say
from tests.escalation.support import open_ticket, settle
from tests.escalation.test_pages import actions, notes, pages
from tests.fakes import FakeClock
from tests.harness import Running

ACKED_BY_ENG1 = [":white_check_mark: #1 acknowledged by <@U0ENG1>."]


async def paged(running: Running) -> StoredMessage:
    """Ticket #1 of class A reported, and its page to the primary (U0ENG1)."""
    await open_ticket(running.bot.ctx, Severity.A)
    await settle(running.bot.ctx)
    [page] = [m for m in pages(running.slack, "U0ENG1") if "#1" in m.text]
    return page


async def test_a_settled_page_stays_settled_after_a_reopen(
    running: Running, clock: FakeClock
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    first = await paged(running)
    assert actions(first) == {"page_1": ["ticket_ack", "ticket_open"]}
    await clock.advance(timedelta(minutes=5))
    await say(slack, "U0ENG1", "ack 1")
    await say(slack, "U0ENG1", "close 1")
    await settle(ctx)
    assert not actions(slack.message(first.channel, first.ts))
    await clock.advance(timedelta(hours=3))
    await say(slack, "U0REP", "reopen 1")
    await settle(ctx)
    now = slack.message(first.channel, first.ts)
    assert not actions(now), now.blocks  # answered 3 hours ago: it does not ask again
    assert notes(now) == ACKED_BY_ENG1


async def test_a_page_names_who_acknowledged_not_the_owner_then_or_later(
    running: Running, clock: FakeClock
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    page = await paged(running)
    await say(slack, "U0MGR1", "take 1")
    await say(slack, "U0ENG1", "ack 1")
    await settle(ctx)
    assert notes(slack.message(page.channel, page.ts)) == ACKED_BY_ENG1
    await say(slack, "U0MGR1", "assign 1 <@U0ENG2|eli>")
    await settle(ctx)
    assert notes(slack.message(page.channel, page.ts)) == ACKED_BY_ENG1


async def test_a_breach_notice_in_the_managers_channel_is_settled_too(
    running: Running, clock: FakeClock
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    await paged(running)
    await say(slack, "U0ENG1", "ack 1")
    await clock.advance(timedelta(minutes=61))  # diagnose (1 h) breached
    await settle(ctx)
    [breach] = [m for m in slack.messages("C0MANAGERS") if "Breach" in m.text]
    assert actions(breach) == {"breach_1": ["ticket_take", "ticket_escalate", "ticket_open"]}
    await say(slack, "U0ENG1", "cause 1 disk full")
    await say(slack, "U0ENG1", "close 1")
    await settle(ctx)
    now = slack.message(breach.channel, breach.ts)
    assert not actions(now), now.blocks
    assert notes(now) == [":white_check_mark: #1: diagnose met by <@U0ENG1>."]


async def test_a_page_is_settled_by_a_reclassify_its_class_and_due_time_are_no_longer_true(
    running: Running, clock: FakeClock
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    page = await paged(running)
    assert "15 minutes" in page.text or "respond" in page.text.lower(), page.text
    await say(slack, "U0MGR1", "severity 1 C it is a report layout issue")
    await settle(ctx)
    now = slack.message(page.channel, page.ts)
    assert not actions(now), now.blocks  # no Acknowledge under a class A due time
    assert notes(now) == [
        ":arrows_counterclockwise: #1 reclassified as class C by <@U0MGR1>; "
        "its deadlines are recomputed."
    ]
