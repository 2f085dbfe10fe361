"""Working tickets end to end: /ticket subcommands, buttons, forms, refusals, over HTTP."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.domain.tickets import ReportDraft
from bot.sandbox.standin import SlackStandIn, StoredMessage
from bot.services.intake import report
from bot.sla.policy import Severity
from storage import tickets as ticket_store
from storage.tables import TicketEventRow, TicketRow
from tests.fakes import FakeClock
from tests.harness import Running


async def open_ticket(
    running: Running, severity: Severity = Severity.A, channel: str = "C0RANDOM"
) -> StoredMessage:
    draft = ReportDraft(
        summary=f"Problem {severity}",
        details="details",
        system="",
        severity=severity,
        reporter_id="U0REP",
        origin_channel=channel,
    )
    outcome = await report(running.bot.ctx, draft=draft, intake_key=None)
    slack = running.slack
    number = outcome.ticket.number
    post = outcome.ticket.post_channel
    message = await slack.wait_for(
        lambda: next(
            (m for m in slack.messages(post) if f"#{number} " in json.dumps(m.blocks)), None
        )
    )
    for _ in range(500):  # the bot stores where its message is right after Slack answers
        if (await ticket(running, number)).message_ts == message.ts:
            return message
        await asyncio.sleep(0.01)
    raise AssertionError("the ticket message's location was not stored")


async def ticket(running: Running, number: int = 1) -> TicketRow:
    async with running.bot.ctx.db.orm() as session:
        row = await session.get(TicketRow, number)
    assert row is not None
    return row


async def events(running: Running, number: int = 1) -> list[str]:
    async with running.bot.ctx.db.orm() as session:
        rows = await session.scalars(
            select(TicketEventRow.kind)
            .where(TicketEventRow.ticket_number == number)
            .order_by(TicketEventRow.id)
        )
    return list(rows)


async def say(slack: SlackStandIn, user: str, text: str) -> str:
    sent = await slack.slash_command(user=user, command="/ticket", text=text, channel="C0SUPPORT")
    assert sent.status == 200
    body: Any = sent.json
    if body is None:  # Bolt answers a text-only ack as text/plain, which Slack shows as is
        return str(sent.body)
    return str(body.get("text", "")) + json.dumps(body.get("blocks", []))


async def latest(slack: SlackStandIn, message: StoredMessage) -> StoredMessage:
    found = slack.message(message.channel, message.ts)
    assert found is not None
    return found


def buttons(message: StoredMessage) -> list[str]:
    return [
        e["action_id"]
        for b in message.blocks or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]


async def test_the_a_ticket_story_by_commands(running: Running) -> None:
    slack = running.slack
    message = await open_ticket(running)
    assert buttons(message) == ["ticket_ack", "ticket_take", "ticket_resolve", "ticket_escalate"]

    reply = await say(slack, "U0ENG1", "ack #1")
    assert "You acknowledged #1" in reply and "back up the data" in reply
    row = await ticket(running)
    assert row.acknowledged_at is not None and row.assignee_id == "U0ENG1"
    await slack.wait_for(
        lambda: "ticket_ack" not in buttons(slack.message(message.channel, message.ts))
    )  # type: ignore[arg-type]

    assert "assigned to <@U0ENG2>" in await say(slack, "U0MGR1", "assign 1 <@U0ENG2|eli>")
    # Slack delivers a typed "<!here> & @here" as "&lt;!here&gt; &amp; <!here>"
    cause = "cause 1 the disk is full &lt;!here&gt; &amp; <!here>"
    assert "Cause recorded" in await say(slack, "U0ENG2", cause)
    assert "Plan recorded" in await say(slack, "U0ENG2", "plan 1 replace the disk by 2026-12-01")
    row = await ticket(running)
    assert row.cause == "the disk is full <!here> & @here" and str(row.fix_date) == "2026-12-01"
    assert "Note added" in await say(slack, "U0REP", "note 1 thank you")
    assert "class B" in await say(slack, "U0MGR1", "severity 1 B only one site is down")
    assert (await ticket(running)).severity == "B"

    # the story is in the thread, user text escaped
    thread = await slack.wait_for(
        lambda: (
            (t := slack.messages(message.channel, message.ts))
            and any("noted on #1" in m.text for m in t)
            and t
        )
    )
    texts = "\n".join(m.text for m in thread)
    assert "identified the cause of #1: the disk is full &lt;!here&gt; &amp; @here" in texts
    assert "<!here>" not in texts
    assert await events(running) == [
        "reported",
        "ack",
        "assign",
        "cause",
        "plan",
        "note",
        "severity",
    ]

    shown = await say(slack, "U0REP", "show 1")
    assert "History" in shown and "cause" in shown and "Replace the disk" not in shown
    assert "replace the disk" in shown


async def test_resolve_checklist_then_the_reporter_confirms_and_rates(running: Running) -> None:
    slack = running.slack
    message = await open_ticket(running, Severity.C)
    await say(slack, "U0ENG1", "ack 1")
    sent = await slack.block_action(
        user="U0ENG1", action_id="ticket_resolve", channel=message.channel, message_ts=message.ts
    )
    assert sent.status == 200
    modal = await slack.wait_for(lambda: slack.modal("U0ENG1"))
    assert modal.callback_id == "resolve_checklist"
    empty = await slack.view_submission(user="U0ENG1", view_id=modal.id, values={})
    assert empty.json["response_action"] == "errors"
    assert (await ticket(running)).state == "acknowledged"  # nothing changed
    done = await slack.view_submission(
        user="U0ENG1",
        view_id=modal.id,
        values={
            "checklist": ["data_backup", "second_test"],
            "update_time": "tonight 22:00",
            "resolution": "Replaced the disk",
        },
    )
    assert done.json["response_action"] == "update"
    row = await ticket(running)
    assert row.state == "resolved" and row.resolution == "Replaced the disk"
    assert row.extra["checklist"] == ["data_backup", "second_test"]

    # the reporter is asked in the thread and by DM
    dm_channel = slack.dm_channel("U0REP")
    ask = await slack.wait_for(
        lambda: next((m for m in slack.messages(dm_channel) if "Is it fixed?" in m.text), None)
    )
    refused = await slack.block_action(
        user="U0ENG1", action_id="confirm_yes", channel=dm_channel, message_ts=ask.ts
    )
    assert refused.status == 200
    assert slack.modal("U0ENG1") is None or slack.modal("U0ENG1").callback_id != "rating"  # type: ignore[union-attr]
    await slack.block_action(
        user="U0REP", action_id="confirm_yes", channel=dm_channel, message_ts=ask.ts
    )
    rating = await slack.wait_for(lambda: slack.modal("U0REP"))
    assert rating.callback_id == "rating"
    await slack.view_submission(
        user="U0REP", view_id=rating.id, values={"rating": "4", "comment": "quick, thanks"}
    )
    row = await ticket(running)
    assert row.state == "closed" and row.rating == 4 and row.rating_comment == "quick, thanks"


async def test_not_fixed_reopens_with_respond_running_again(running: Running) -> None:
    slack = running.slack
    message = await open_ticket(running, Severity.B)
    await say(slack, "U0ENG1", "ack 1")
    await slack.block_action(
        user="U0ENG1", action_id="ticket_resolve", channel=message.channel, message_ts=message.ts
    )
    modal = await slack.wait_for(lambda: slack.modal("U0ENG1"))
    await slack.view_submission(user="U0ENG1", view_id=modal.id, values={"resolution": "restarted"})
    dm_channel = slack.dm_channel("U0REP")
    ask = await slack.wait_for(
        lambda: next((m for m in slack.messages(dm_channel) if "Is it fixed?" in m.text), None)
    )
    await slack.block_action(
        user="U0REP", action_id="confirm_no", channel=dm_channel, message_ts=ask.ts
    )
    await slack.wait_for(lambda: slack.responses() or None)
    row = await ticket(running)
    assert row.state == "open" and row.acknowledged_at is None and row.resolved_at is None
    assert (await events(running))[-1] == "reject"


async def test_buttons_ack_take_escalate_and_refusals(running: Running) -> None:
    slack = running.slack
    message = await open_ticket(running)
    await slack.block_action(
        user="U0REP", action_id="ticket_ack", channel=message.channel, message_ts=message.ts
    )
    refusal = await slack.wait_for(lambda: slack.responses() or None)
    assert "Only an engineer can ack #1" in refusal[-1].body["text"]
    assert (await ticket(running)).acknowledged_at is None

    await slack.block_action(
        user="U0ENG3", action_id="ticket_take", channel=message.channel, message_ts=message.ts
    )
    await slack.wait_for(lambda: len(slack.responses()) >= 2 or None)
    assert (await ticket(running)).assignee_id == "U0ENG3"
    await slack.block_action(
        user="U0ENG1", action_id="ticket_ack", channel=message.channel, message_ts=message.ts
    )
    await slack.wait_for(lambda: len(slack.responses()) >= 3 or None)
    assert (await ticket(running)).acknowledged_at is not None

    await slack.block_action(
        user="U0ENG1", action_id="ticket_escalate", channel=message.channel, message_ts=message.ts
    )
    page = await slack.wait_for(
        lambda: next(
            (m for m in slack.messages(slack.dm_channel("U0MGR1")) if "escalated #1" in m.text),
            None,
        )
    )
    # A manager is offered what a manager may do: take, escalate, open; not acknowledge.
    offered = [e["text"]["text"] for b in page.blocks or [] for e in b.get("elements", [])]
    assert offered == ["Take", "Escalate", "Open ticket"]
    # a second press (a double click) pages no one again
    await slack.block_action(
        user="U0ENG1", action_id="ticket_escalate", channel=message.channel, message_ts=message.ts
    )
    again = await slack.wait_for(
        lambda: [r for r in slack.responses() if "a moment ago" in str(r.body.get("text"))] or None
    )
    assert "#1 was escalated a moment ago" in again[0].body["text"]
    manager = slack.dm_channel("U0MGR1")
    assert [m.text for m in slack.messages(manager)].count(page.text) == 1
    assert (await events(running)).count("escalate") == 1


async def test_wait_resume_close_reopen_and_list(running: Running, clock: FakeClock) -> None:
    slack = running.slack
    await open_ticket(running, Severity.C)
    await open_ticket(running, Severity.A)
    assert "clock is paused" in await say(slack, "U0ENG1", "wait 1")
    assert "never pause" in await say(slack, "U0ENG1", "wait 2")
    assert "waiting for the customer already" in await say(slack, "U0ENG1", "wait 1")
    await clock.advance(timedelta(hours=1))
    assert "running again" in await say(slack, "U0ENG1", "resume 1")
    listing = await say(slack, "U0ENG1", "list")
    assert listing.index("#2") < listing.index("#1")  # ordered by time left: A first
    assert "#1" not in await say(slack, "U0ENG1", "list A")
    assert "is closed" in await say(slack, "U0MGR1", "close 2")
    assert "#2" not in await say(slack, "U0ENG1", "list open")
    assert "open again" in await say(slack, "U0REP", "reopen 2")
    mine = await say(slack, "U0REP", "list mine")
    assert "#1" in mine and "#2" in mine


async def test_out_of_warranty_waits_for_a_manager(running: Running) -> None:
    slack = running.slack
    await open_ticket(running, Severity.C, channel="C0CUST2")  # warranty ended 2025-01-31
    assert (await ticket(running)).state == "awaiting_approval"
    ask = await slack.wait_for(
        lambda: next(
            (m for m in slack.messages(slack.dm_channel("U0MGR1")) if "out-of-warranty" in m.text),
            None,
        )
    )
    assert "waits for" in await say(
        slack, "U0ENG1", "ack 1"
    ) or "cannot be acknowledged" in await say(slack, "U0ENG1", "ack 1")
    assert "Only a manager" in await say(slack, "U0ENG1", "accept 1")
    await slack.block_action(
        user="U0MGR1", action_id="approval_decline", channel=ask.channel, message_ts=ask.ts
    )
    modal = await slack.wait_for(lambda: slack.modal("U0MGR1"))
    await slack.view_submission(user="U0MGR1", view_id=modal.id, values={"reason": "not covered"})
    row = await ticket(running)
    assert row.state == "closed" and row.extra["declined_reason"] == "not covered"
    told = await slack.wait_for(
        lambda: next(
            (m for m in slack.messages(slack.dm_channel("U0REP")) if "declined" in m.text), None
        )
    )
    assert "not covered" in told.text


async def test_a_request_reclassified_to_a_no_longer_waits_for_a_manager(
    running: Running,
) -> None:
    """Only C and D out of warranty wait for a manager's acceptance: moved to A, the ticket is
    open (A's clock runs), and the managers' request says it was answered, without buttons."""
    slack = running.slack
    await open_ticket(running, Severity.C, channel="C0CUST2")  # warranty ended 2025-01-31
    ask = await slack.wait_for(
        lambda: next(
            (m for m in slack.messages(slack.dm_channel("U0MGR1")) if "out-of-warranty" in m.text),
            None,
        )
    )
    reply = await say(slack, "U0MGR1", "severity 1 A the whole toll system stopped")
    assert "now class A" in reply
    assert (await ticket(running)).state == "open"
    assert "acknowledged" in await say(slack, "U0ENG1", "ack 1")
    settled = await slack.wait_for(
        lambda: (lambda m: m if m is not None and not buttons(m) else None)(
            slack.message(ask.channel, ask.ts)
        )
    )
    assert "#1" in settled.text
    # moved between classes that both ask it, the request still waits
    await open_ticket(running, Severity.C, channel="C0CUST2")
    await say(slack, "U0MGR1", "severity 2 D only a wish")
    assert (await ticket(running, 2)).state == "awaiting_approval"


async def test_bad_commands_answer_one_line_and_change_nothing(running: Running) -> None:
    slack = running.slack
    await open_ticket(running)
    before = await ticket(running)
    for text, says in [
        ("ack 99", "There is no ticket #99"),
        ("severity 1 X because", "A, B, C or D"),
        ("cause 1", "Say what caused it"),
        ("frobnicate", "I don't know"),
        ("report", "Only a manager"),
        ("accept 1", "Only a manager"),
        ("resume 1", "is not waiting"),
        ("assign 1 <@U0CUST|cu>", "neither an engineer nor a manager"),
    ]:
        assert says in await say(slack, "U0ENG1", text), text
    # a refused command with words of its own gives them back as typed, to send again
    long = "检查了 R&amp;D 的网关 &lt;gw-1&gt;，重启后恢复。" * 120  # as Slack delivers it
    sent = await slack.slash_command(
        user="U0REP", command="/ticket", text=f"cause 1 {long}", channel="C0SUPPORT"
    )
    assert "Only an engineer" in sent.json["text"]
    given = [b["text"] for b in sent.json["blocks"] if b["text"]["type"] == "plain_text"]
    typed = "检查了 R&D 的网关 <gw-1>，重启后恢复。" * 120
    assert len(given) == 2 and all(len(g["text"]) <= 3000 for g in given)  # whole, in two
    assert "".join(g["text"] for g in given) == f"/ticket cause 1 {typed}"
    after = await ticket(running)
    assert after.version == before.version and await events(running) == ["reported"]


async def test_monthly_report_for_managers(running: Running) -> None:
    slack = running.slack
    await open_ticket(running)
    await say(slack, "U0ENG1", "ack 1")
    text = await say(slack, "U0MGR1", "report 2026-11")
    assert "Support report 2026-11" in text and "A: 1" in text and "Respond: 1/1" in text


async def test_a_command_said_in_the_tickets_thread(running: Running) -> None:
    slack = running.slack
    message = await open_ticket(running)
    sent = await slack.app_mention(
        user="U0ENG1",
        channel=message.channel,
        thread_ts=message.ts,
        text=f"<@{slack.bot_user_id}> cause the cable was cut",
    )
    assert sent.status == 200
    answer = await slack.wait_for(lambda: slack.ephemerals("U0ENG1") or None)
    assert "Cause recorded on #1" in answer[-1].text
    assert (await ticket(running)).cause == "the cable was cut"


async def test_home_tab_shows_my_tickets_on_call_and_the_queue(running: Running) -> None:
    slack = running.slack
    await open_ticket(running)
    await slack.app_home_opened(user="U0ENG1")
    home = await slack.wait_for(lambda: slack.home("U0ENG1"))
    text = json.dumps(home.view)
    assert "On call now" in text and "All open tickets" in text and "#1" in text
    await slack.app_home_opened(user="U0REP")
    mine = await slack.wait_for(lambda: slack.home("U0REP"))
    assert "Your open tickets" in json.dumps(mine.view)
    assert "All open tickets" not in json.dumps(mine.view)


async def test_slacks_retries_change_nothing_the_second_time(running: Running) -> None:
    slack = running.slack
    message = await open_ticket(running)
    first = await slack.slash_command(
        user="U0ENG1", command="/ticket", text="note 1 called the customer", channel="C0SUPPORT"
    )
    again = await slack.resend(first, retry_num=1, retry_reason="http_timeout")
    assert again.status == 200 and "Note added to #1" in str(again.body)
    click = await slack.block_action(
        user="U0ENG1", action_id="ticket_take", channel=message.channel, message_ts=message.ts
    )
    await slack.resend(click, retry_num=1)
    mention = await slack.app_mention(
        user="U0ENG1",
        channel=message.channel,
        thread_ts=message.ts,
        text=f"<@{slack.bot_user_id}> note from the thread",
    )
    await slack.resend(mention, retry_num=1)
    await slack.wait_for(
        lambda: [e for e in slack.ephemerals("U0ENG1") if e.source == "chat.postEphemeral"] or None
    )
    assert await events(running) == ["reported", "note", "take", "note"]


async def test_a_notice_slack_refuses_for_good_is_kept_and_does_not_hold_up_the_ticket(
    running: Running,
) -> None:
    from bot.domain.notices import NoticeKind
    from storage import outbox
    from storage.outbox import NewNotice
    from storage.tables import OutboxRow

    slack = running.slack
    message = await open_ticket(running)
    ctx = running.bot.ctx
    async with ctx.db.write() as session:  # a notice to a channel that does not exist
        await outbox.enqueue_many(
            session,
            [NewNotice(1, NoticeKind.CHANNEL, {"channel": "C0NOWHERE", "text": "lost?"})],
            now=ctx.clock.now(),
        )
    ctx.wake_delivery()
    assert "Note added" in await say(slack, "U0ENG1", "note 1 after the refused one")
    await slack.wait_for(
        lambda: (
            any(
                "after the refused one" in m.text
                for m in slack.messages(message.channel, message.ts)
            )
            or None
        )
    )
    async with ctx.db.orm() as session:
        dead = (await session.scalars(select(OutboxRow).where(OutboxRow.kind == "message"))).one()
    assert dead.result == {"dead": True} and "channel_not_found" in (dead.last_error or "")


async def test_a_slow_database_still_gets_an_answer_in_time(running: Running) -> None:
    """Another writer holds the ticket past Slack's 3 s: the command is answered at once
    and its result comes through the response_url when the step is stored. (The writer
    locks the ticket's row: on PostgreSQL only that makes the step wait; on SQLite any
    write transaction does.)"""
    slack = running.slack
    await open_ticket(running)
    held = asyncio.Event()

    async def hold_the_database() -> None:
        async with running.bot.ctx.db.write() as conn:
            assert 1 in await ticket_store.lock_tickets(conn, [1])
            held.set()
            await asyncio.sleep(3.5)

    holder = asyncio.create_task(hold_the_database())
    await held.wait()
    sent = await slack.slash_command(
        user="U0ENG1", command="/ticket", text="note 1 written while slow", channel="C0SUPPORT"
    )
    assert sent.status == 200 and "Working on it" in str(sent.body)
    await holder
    answer = await slack.wait_for(
        lambda: [r for r in slack.responses() if "Note added" in str(r.body)] or None, timeout=10
    )
    assert answer and (await events(running))[-1] == "note"


async def test_a_fix_date_is_past_or_not_by_the_local_day(
    running: Running, clock: FakeClock
) -> None:
    """Tuesday 07:00 in Shanghai is still Monday in UTC: Monday is past, Tuesday is today."""
    slack = running.slack
    await open_ticket(running)
    await clock.advance(timedelta(hours=21))  # 2026-11-24 07:00 Asia/Shanghai
    before = await ticket(running)
    reply = await say(slack, "U0ENG1", "plan 1 replace the disk by 2026-11-23")
    assert "The fix date 2026-11-23 is in the past: agree a date from 2026-11-24 on" in reply
    after = await ticket(running)
    assert after.version == before.version and after.fix_date is None
    assert await events(running) == ["reported"]
    assert "Plan recorded" in await say(slack, "U0ENG1", "plan 1 replace the disk by 2026-11-24")
    assert str((await ticket(running)).fix_date) == "2026-11-24"


async def test_a_declined_request_is_reopened_by_a_manager_only(running: Running) -> None:
    """Reopening a declined out-of-warranty request would open it for work without the
    manager's acceptance: the reporter and the engineers are refused, and nothing changes."""
    slack = running.slack
    await open_ticket(running, Severity.C, channel="C0CUST2")  # warranty ended 2025-01-31
    assert "You declined #1" in await say(slack, "U0MGR1", "decline 1 not covered")
    before = await ticket(running)
    for user in ("U0REP", "U0ENG1"):
        assert "only a manager can reopen it" in await say(slack, user, "reopen 1"), user
    after = await ticket(running)
    assert after.state == "closed" and after.version == before.version
    assert await events(running) == ["reported", "decline"]
    assert "open again" in await say(slack, "U0MGR1", "reopen 1")


async def test_acknowledging_a_closed_ticket_says_it_is_closed(running: Running) -> None:
    """It said "acknowledged already", as if the ticket were still being worked."""
    slack = running.slack
    await open_ticket(running)
    await say(slack, "U0ENG1", "ack 1")
    await say(slack, "U0ENG1", "close 1")
    before = await ticket(running)
    for text in ("ack 1", "确认 1"):
        assert "#1 is closed; it cannot be acknowledged now" in await say(slack, "U0ENG2", text)
    assert (await ticket(running)).version == before.version
    assert await events(running) == ["reported", "ack", "close"]


async def test_a_fix_date_beyond_any_agreement_is_refused(running: Running) -> None:
    """By 9999-12-31 left the ticket with no deadlines at all (its diagnose, still running,
    among them); a fix date is agreed within five years of today."""
    slack = running.slack
    await open_ticket(running)
    before = await ticket(running)
    for far in ("9999-12-31", "2400-01-01", "2032-01-01"):
        reply = await say(slack, "U0ENG1", f"plan 1 replace the disk by {far}")
        assert f"The fix date {far} is too far ahead: agree a date by 2031-12-31" in reply, far
    after = await ticket(running)
    assert after.version == before.version and after.fix_date is None
    assert await events(running) == ["reported"]
    assert "Diagnose by" in await say(slack, "U0ENG1", "show 1")
    assert "Plan recorded" in await say(slack, "U0ENG1", "plan 1 replace the disk by 2031-12-31")
    assert "Diagnose by" in await say(slack, "U0ENG1", "show 1")


async def test_a_request_never_accepted_waits_for_a_manager_again_when_reopened(
    running: Running,
) -> None:
    """An out-of-warranty request closed before a manager decided (by an engineer), then
    reopened by its reporter, was open for work without being accepted; it waits for a
    manager again, and the managers are asked again."""
    slack = running.slack
    await open_ticket(running, Severity.C, channel="C0CUST2")  # warranty ended 2025-01-31
    managers = slack.dm_channel("U0MGR1")

    def asked() -> list[str]:
        return [m.text for m in slack.messages(managers) if "out-of-warranty" in m.text]

    await slack.wait_for(lambda: asked() or None)
    assert "is closed" in await say(slack, "U0ENG1", "close 1")
    reply = await say(slack, "U0REP", "reopen 1")
    assert "#1 is open again and waits for a manager to accept or decline it" in reply
    assert (await ticket(running)).state == "awaiting_approval"
    await slack.wait_for(lambda: len(asked()) == 2 or None)
    assert "cannot be acknowledged" in await say(slack, "U0ENG1", "ack 1")
    assert "You accepted #1" in await say(slack, "U0MGR1", "accept 1")
    assert (await ticket(running)).state == "open"
    # a manager who reopens a request they declined decides it again
    await open_ticket(running, Severity.D, channel="C0CUST2")
    await say(slack, "U0MGR1", "decline 2 not covered")
    assert "waits for a manager" in await say(slack, "U0MGR1", "reopen 2")
    assert (await ticket(running, 2)).state == "awaiting_approval"
