"""Reclassifying recomputes the open deadlines (SPEC §4): the new class's reminders, pages
and breach notices are sent at its own deadlines, even where the old class already sent a
stage of the same name; what fell due before the reclassification is not sent twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.sla.policy import Severity
from storage.tables import TimerRow
from tests.e2e.test_tickets import say
from tests.escalation.support import fired, meet, open_ticket, settle
from tests.escalation.test_pages import pages
from tests.fakes import FakeClock
from tests.harness import Running


async def test_a_ticket_moved_from_a_to_b_after_a_breach_escalates_at_b_s_deadlines(
    running: Running, clock: FakeClock
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    reported = clock.now()
    await open_ticket(ctx, Severity.A)
    await settle(ctx)
    await say(slack, "U0ENG1", "ack 1")
    await clock.advance(timedelta(minutes=70))  # A's diagnose (1 h) breached
    await settle(ctx)
    breaches = [m for m in slack.messages("C0MANAGERS") if "Breach" in m.text]
    assert len(breaches) == 1
    before = len(pages(slack, "U0MGR1"))
    await say(slack, "U0MGR1", "severity 1 B the lanes work, slowly")
    await settle(ctx)
    assert len(pages(slack, "U0MGR1")) == before  # nothing due under B yet: nothing sent

    # B's diagnose is due 4 h after the report: the managers are paged at 90 % (3 h 36 min)
    await clock.advance(reported + timedelta(hours=3, minutes=37) - clock.now())
    await settle(ctx)
    [page] = pages(slack, "U0MGR1")[before:]
    assert "#1" in page.text and "diagnose" in page.text, page.text
    # and at the deadline the breach is told in the managers channel and the thread
    await clock.advance(reported + timedelta(hours=4, minutes=1) - clock.now())
    await settle(ctx)
    breaches = [m for m in slack.messages("C0MANAGERS") if "Breach" in m.text]
    assert len(breaches) == 2, [m.text for m in breaches]
    assert {"diagnose:breach", "diagnose:breach/1"} <= set(await fired(ctx, 1))


async def test_a_stage_a_reclassified_ticket_sent_before_stages_were_keyed_so_is_not_resent(
    running: Running, clock: FakeClock
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    reported = clock.now()
    await open_ticket(ctx, Severity.A)
    await say(slack, "U0ENG1", "ack 1")
    await clock.advance(timedelta(minutes=20))
    await say(slack, "U0MGR1", "severity 1 B the lanes work, slowly")
    await clock.advance(reported + timedelta(hours=3, minutes=37) - clock.now())
    await settle(ctx)
    sent = len(pages(slack, "U0MGR1"))
    assert "diagnose:page:managers/1" in await fired(ctx, 1)
    # As an earlier version stored it: by its name only. Re-armed (as at a start), it is
    # known as sent.
    async with ctx.db.write() as session:
        await session.execute(
            update(TimerRow)
            .where(TimerRow.key == "diagnose:page:managers/1")
            .values(key="diagnose:page:managers")
        )
    await meet(ctx, 1)
    await settle(ctx)
    assert len(pages(slack, "U0MGR1")) == sent
