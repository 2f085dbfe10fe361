import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.domain.tickets import ReportDraft
from bot.services.context import Context
from bot.services.intake import report
from bot.sla.policy import Severity
from storage import outbox
from storage.tables import OutboxRow, TicketEventRow, TicketRow


def draft(n: int = 0, channel: str | None = "C0RANDOM") -> ReportDraft:
    return ReportDraft(
        summary=f"problem {n}",
        details="details",
        system="billing",
        severity=Severity.A,
        reporter_id="U0REP",
        origin_channel=channel,
    )


async def test_fifty_reports_at_once_get_numbers_one_to_fifty(ctx: Context) -> None:
    outcomes = await asyncio.gather(
        *(report(ctx, draft=draft(n), intake_key=f"view:{n}") for n in range(50))
    )
    numbers = sorted(o.ticket.number for o in outcomes)
    assert numbers == list(range(1, 51))
    async with ctx.db.orm() as session:
        stored = (await session.scalars(select(TicketRow.number))).all()
    assert sorted(stored) == list(range(1, 51))


async def test_the_ticket_is_stored_with_its_first_event_and_owed_notices(ctx: Context) -> None:
    outcome = await report(ctx, draft=draft(), intake_key="view:V1")
    assert outcome.created
    async with ctx.db.orm() as session:
        events = (await session.scalars(select(TicketEventRow))).all()
        notices = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
    assert [(e.kind, e.ticket_number, e.actor_id) for e in events] == [("reported", 1, "U0REP")]
    assert events[0].after["summary"] == "problem 0"
    # class A: the on-call primary is paged with the report itself
    assert [n.kind for n in notices] == ["ticket_message", "thread", "dm", "page"]
    assert notices[3].payload["user"] in ("U0ENG1", "U0ENG2")
    assert "#1" in notices[3].payload["text"]
    assert all(n.sent_at is None for n in notices)


async def test_the_same_submission_twice_opens_one_ticket(ctx: Context) -> None:
    first = await report(ctx, draft=draft(), intake_key="view:V1")
    second = await report(ctx, draft=draft(), intake_key="view:V1")
    assert first.created and not second.created
    assert second.ticket.number == first.ticket.number
    async with ctx.db.orm() as session:
        assert len((await session.scalars(select(TicketRow))).all()) == 1
        assert len((await session.scalars(select(OutboxRow))).all()) == 4


async def test_a_customer_channel_report_is_posted_there_and_warranty_follows_the_date(
    ctx: Context,
) -> None:
    in_w = await report(ctx, draft=draft(channel="C0CUST1"), intake_key=None)
    out_w = await report(ctx, draft=draft(channel="C0CUST2"), intake_key=None)
    assert in_w.ticket.post_channel == "C0CUST1" and in_w.ticket.in_warranty
    assert in_w.ticket.customer == "Highway Monitoring Center"
    assert out_w.ticket.post_channel == "C0CUST2" and not out_w.ticket.in_warranty


async def test_outbox_keeps_order_per_conversation(ctx: Context) -> None:
    await report(ctx, draft=draft(1), intake_key=None)
    await report(ctx, draft=draft(2), intake_key=None)
    lease = timedelta(seconds=40)
    async with ctx.db.write() as session:
        claimed = await outbox.claim_heads(session, now=ctx.clock.now(), owner="a", lease=lease)
    # Only the head of each conversation is in line, pages first: the on-call engineer's
    # page (with the second ticket's page: one message), the support channel's first ticket
    # message (the second ticket's waits for it), and the reporter's first DM.
    heads = [(c.head.ticket_number, c.head.kind, c.conversation) for c in claimed]
    assert heads == [
        (1, "page", "user:U0ENG2"),
        (1, "ticket_message", "C0SUPPORT"),
        (1, "dm", "user:U0REP"),
    ]
    assert [n.ticket_number for n in claimed[0].notices] == [1, 2]
    async with ctx.db.write() as session:
        again = await outbox.claim_heads(session, now=ctx.clock.now(), owner="b", lease=lease)
    assert again == []  # leased heads are not handed out twice, nor what waits behind them


async def test_the_same_submission_arriving_twice_at_once_opens_one_ticket(ctx: Context) -> None:
    # Two replicas given the same submission at the same moment (a double click): each
    # transaction must see the other's ticket, not fail on its key after the other commits.
    outcomes = await asyncio.gather(
        *(report(ctx, draft=draft(), intake_key=f"view:V{n % 3}") for n in range(9))
    )
    by_key: dict[int, list[bool]] = {}
    for outcome in outcomes:
        by_key.setdefault(outcome.ticket.number, []).append(outcome.created)
    assert sorted(by_key) == [1, 2, 3]
    assert all(sorted(created) == [False, False, True] for created in by_key.values())
    after = await report(ctx, draft=draft(), intake_key="view:V9")
    assert after.ticket.number == 4  # no number lost
