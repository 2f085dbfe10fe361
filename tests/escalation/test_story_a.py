"""The whole class-A story over real HTTP: pages, reminders, breach, repeats, and stopping."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox.standin import SlackStandIn, StoredMessage
from bot.sla.policy import Severity
from tests.escalation.support import fired, meet, open_ticket, pending, settle
from tests.fakes import FakeClock
from tests.harness import Running

MIN = timedelta(minutes=1)


def dms(slack: SlackStandIn, user: str) -> list[StoredMessage]:
    return slack.messages(slack.dm_channel(user))


def thread(slack: SlackStandIn) -> list[StoredMessage]:
    parent = slack.messages("C0SUPPORT")[0]
    return slack.messages("C0SUPPORT", parent.ts)[1:]


def buttons(message: StoredMessage) -> dict[str, str]:
    found = {}
    for block in message.blocks or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            found[element["action_id"]] = element.get("value", "")
    return found


async def test_class_a_story(running: Running, clock: FakeClock) -> None:
    slack, ctx = running.slack, running.bot.ctx
    start = clock.now()

    async def at(minutes: float) -> None:
        await clock.advance(start + minutes * MIN - clock.now())
        await settle(ctx)

    ticket = await open_ticket(ctx, Severity.A, "Toll <@U0MGR1> gates down")
    await settle(ctx)
    # At report: the ticket in the support channel and the on-call primary paged by DM.
    assert len(slack.messages("C0SUPPORT")) == 1
    [page] = dms(slack, "U0ENG1")
    assert "#1" in page.text and "needs a response" in page.text
    assert buttons(page) == {"ticket_ack": "1", "ticket_open": "1"}
    assert "<@U0MGR1>" not in str(page.blocks)  # the summary is escaped
    parent = slack.messages("C0SUPPORT")[0]

    def links() -> list[str]:
        [page] = dms(slack, "U0ENG1")
        return [e["url"] for b in page.blocks or [] for e in b.get("elements", []) if "url" in e]

    # The page goes out at once, not after the channel's post; it is linked to the ticket
    # message once that is posted.
    await slack.wait_for(links)
    assert links() == [f"{slack.base_url}archives/C0SUPPORT/p{parent.ts.replace('.', '')}"]
    assert dms(slack, "U0ENG3") == []

    # Respond reminders at 50, 75 and 90 % of 15 minutes, in the thread, naming the primary.
    for minutes, percent in ((7.5, 50), (11.25, 75), (13.5, 90)):
        await at(minutes - 0.01)
        assert not any(f"{percent}% of the respond" in m.text for m in thread(slack))
        await at(minutes)
        assert f"{percent}% of the respond time" in thread(slack)[-1].text
        assert "<@U0ENG1>" in thread(slack)[-1].text

    # Not acknowledged at 15 minutes: the secondary is paged too.
    await at(15)
    [secondary] = dms(slack, "U0ENG3")
    assert "#1 is not acknowledged" in secondary.text
    assert "paging the secondary <@U0ENG3>" in thread(slack)[-1].text
    await meet(ctx, ticket.number, acknowledged_at=clock.now() + MIN)
    await at(16)

    # Managers: nothing before 45 minutes, a page at 75 % of the diagnose hour.
    await at(44.9)
    assert dms(slack, "U0MGR1") == []
    await at(45)
    [manager_page] = dms(slack, "U0MGR1")
    assert "#1 diagnose is not met yet" in manager_page.text
    assert "15 minutes left" in manager_page.text
    # A manager takes or escalates (managers do not acknowledge).
    assert set(buttons(manager_page)) == {"ticket_take", "ticket_escalate", "ticket_open"}
    assert "75% of the diagnose time" in thread(slack)[-1].text

    await at(54)
    assert "90% of the diagnose time" in thread(slack)[-1].text

    # Breach at one hour: a notice in the managers channel and the thread.
    await at(60)
    [notice] = slack.messages("C0MANAGERS")
    assert "Breach" in notice.text and "#1" in notice.text and "diagnose" in notice.text
    assert "breached its diagnose promise" in thread(slack)[-1].text

    # Repeats every 30 minutes until the cause is found.
    await at(89.9)
    assert len(dms(slack, "U0MGR1")) == 1
    await at(90)
    assert len(dms(slack, "U0MGR1")) == 2 and "repeat 1" in dms(slack, "U0MGR1")[-1].text

    # The cause stops the diagnose stages; the plan now counts from it (due 95 + 120 minutes).
    await meet(ctx, ticket.number, cause_at=start + 95 * MIN)
    await at(95)
    keys = await pending(ctx, ticket.number)
    assert not any(k.startswith(("respond", "diagnose")) for k in keys)
    assert keys == {"plan:reminder:50": start + 155 * MIN}  # only the next stage is stored
    await at(150)  # the second diagnose repeat would have been at 120
    assert len(dms(slack, "U0MGR1")) == 2
    await at(155)
    assert "50% of the plan time" in thread(slack)[-1].text

    done = await fired(ctx, ticket.number)
    assert {k for k, v in done.items() if v != "sent"} == set()
    assert {
        "respond:page:primary",
        "respond:page:secondary",
        "diagnose:page:managers",
        "diagnose:breach",
        "diagnose:repeat:1",
        "plan:reminder:50",
    } <= set(done)
    assert len(slack.messages("C0MANAGERS")) == 1
    assert len(dms(slack, "U0ENG1")) == 1 and len(dms(slack, "U0ENG3")) == 1


async def test_acknowledging_before_the_target_stops_the_secondary_page(
    running: Running, clock: FakeClock
) -> None:
    slack, ctx = running.slack, running.bot.ctx
    ticket = await open_ticket(ctx, Severity.A)
    await settle(ctx)
    await clock.advance(8 * MIN)
    await settle(ctx)
    await meet(ctx, ticket.number, acknowledged_at=clock.now())
    await settle(ctx)
    assert not any(k.startswith("respond") for k in await pending(ctx, ticket.number))
    await clock.advance(8 * MIN)  # past the 15-minute respond target
    await settle(ctx)
    assert slack.messages(slack.dm_channel("U0ENG3")) == []
    assert [m for m in thread(slack) if "respond time" in m.text][-1].text.count("50%") == 1
