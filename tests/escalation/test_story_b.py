"""Class B over real HTTP: an early acknowledgement, managers at 90 %, breach, repeats."""

from __future__ import annotations

from datetime import timedelta

from bot.sla.policy import Severity
from tests.escalation.support import fired, meet, open_ticket, pending, settle
from tests.escalation.test_story_a import dms, thread
from tests.fakes import FakeClock
from tests.harness import Running

MIN = timedelta(minutes=1)


async def test_class_b_story(running: Running, clock: FakeClock) -> None:
    slack, ctx = running.slack, running.bot.ctx
    start = clock.now()

    async def at(minutes: float) -> None:
        await clock.advance(start + minutes * MIN - clock.now())
        await settle(ctx)

    ticket = await open_ticket(ctx, Severity.B)
    await settle(ctx)
    assert len(dms(slack, "U0ENG1")) == 1  # the primary, paged at report
    await at(15)
    assert "50% of the respond time" in thread(slack)[-1].text
    await meet(ctx, ticket.number, acknowledged_at=start + 20 * MIN)
    await at(20)
    await at(31)  # past the 30-minute target, but acknowledged: no secondary, no more reminders
    assert dms(slack, "U0ENG3") == []
    assert sum("respond time" in m.text for m in thread(slack)) == 1

    await at(120)
    assert "50% of the diagnose time" in thread(slack)[-1].text
    await at(180)
    await at(215.9)
    assert dms(slack, "U0MGR1") == []
    await at(216)  # 90 % of 4 h: the reminder and the managers' page, one step
    assert "is not met yet" in dms(slack, "U0MGR1")[0].text
    assert "90% of the diagnose time" in thread(slack)[-1].text
    await at(240)
    assert "Breach" in slack.messages("C0MANAGERS")[0].text
    await at(359)
    assert len(dms(slack, "U0MGR1")) == 1
    await at(360)  # repeats every 2 h for B
    assert len(dms(slack, "U0MGR1")) == 2
    await meet(ctx, ticket.number, cause_at=start + 370 * MIN)
    await at(370)
    await at(480)  # the next repeat would have been here
    assert len(dms(slack, "U0MGR1")) == 2
    assert not any(k.startswith("diagnose") for k in await pending(ctx, ticket.number))
    done = await fired(ctx, ticket.number)
    assert "respond:page:secondary" not in done and "respond:reminder:75" not in done
    assert {k for k, v in done.items() if v != "sent"} == set()
