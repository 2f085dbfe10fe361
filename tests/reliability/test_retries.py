"""Slack's retries and double clicks change nothing the second time (SPEC §8).

Each test does a thing once, lets the bot settle (Bolt's background listeners done, the outbox
drained), takes a snapshot of everything that could change (tickets, events, outbox rows, the
stand-in's calls, messages and ephemerals), then delivers the same request again and compares.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.sandbox.standin import SentRequest
from storage.tables import KbEntryRow, OnCallOverrideRow, OutboxRow, TicketEventRow, TicketRow
from tests.e2e.test_intake import answer, open_report
from tests.e2e.test_tickets import open_ticket
from tests.harness import Running
from tests.reliability.support import bolt_idle, until

RETRIES = (1, 2)  # Slack retries an event up to three times in all
REPLY_METHODS = frozenset({"auth.test", "chat.postEphemeral"})


async def settle(running: Running) -> None:
    await bolt_idle()

    async def drained() -> bool:
        async with running.bot.ctx.db.orm() as session:
            unsent = await session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
            )
        return unsent == 0

    await until(drained, what="the outbox to drain")
    await until(lambda: not running.bot.delivery.busy, what="the pages brought up to date")
    await bolt_idle()


async def snapshot(running: Running) -> dict[str, Any]:
    slack = running.slack
    async with running.bot.ctx.db.orm() as session:
        tickets = await session.scalar(select(func.count()).select_from(TicketRow))
        events = Counter((await session.scalars(select(TicketEventRow.kind))).all())
        outbox = Counter((await session.scalars(select(OutboxRow.kind))).all())
    calls = Counter(c.method for c in slack.calls() if c.method not in REPLY_METHODS)
    return {
        "tickets": tickets,
        "events": events,
        "outbox": outbox,
        "calls": calls,
        "messages": len(slack.all_messages()),
    }


def replies(running: Running) -> int:
    """Answers shown to the person who acted: ephemeral messages, whether posted with
    chat.postEphemeral or through a response_url (the stand-in lists both as ephemerals)."""
    slack = running.slack
    return sum(len(slack.ephemerals(u)) for u in slack.users)


async def retried(running: Running, sent: SentRequest) -> dict[str, Any]:
    """Deliver ``sent`` again as Slack's retries do; return the snapshot before them."""
    await settle(running)
    before = await snapshot(running)
    for number in RETRIES:
        again = await running.slack.resend(sent, retry_num=number, retry_reason="http_timeout")
        assert again.status == 200, again.body
    await settle(running)
    return before


async def test_a_double_clicked_report_submit_opens_one_ticket(running: Running) -> None:
    slack = running.slack
    view_id = await open_report(slack, text="Weighbridge offline")
    await answer(slack, "U0REP", view_id, "triage_stopped", yes=True)
    values = {"summary": "Weighbridge offline", "details": "Since 08:10"}
    first, second = await asyncio.gather(
        slack.view_submission(user="U0REP", view_id=view_id, values=values),
        slack.view_submission(user="U0REP", view_id=view_id, values=values),
    )
    assert first.status == second.status == 200
    # both clicks are told the same ticket number
    assert "#1" in json.dumps(first.json) and "#1" in json.dumps(second.json)
    before = await retried(running, first)
    assert await snapshot(running) == before
    assert before["tickets"] == 1
    assert before["events"] == {"reported": 1}
    assert before["outbox"]["ticket_message"] == 1
    assert len(slack.messages("C0SUPPORT")) == 1
    assert len(slack.messages(slack.dm_channel("U0REP"))) == 1


async def test_slack_retrying_a_ticket_command_adds_one_note(running: Running) -> None:
    slack = running.slack
    await open_ticket(running)
    sent = await slack.slash_command(
        user="U0ENG1", command="/ticket", text="note 1 checked the cables", channel="C0SUPPORT"
    )
    assert sent.status == 200 and "Note added to #1" in sent.body
    before = await retried(running, sent)
    assert await snapshot(running) == before
    assert before["events"]["note"] == 1


async def test_slack_retrying_a_button_click_escalates_once(running: Running) -> None:
    slack = running.slack
    message = await open_ticket(running)
    sent = await slack.block_action(
        user="U0ENG1", action_id="ticket_escalate", channel=message.channel, message_ts=message.ts
    )
    assert sent.status == 200
    await settle(running)
    before = await retried(running, sent)
    assert await snapshot(running) == before
    assert before["events"]["escalate"] == 1
    assert len(slack.messages(slack.dm_channel("U0MGR1"))) == 1  # one page to the manager


async def test_slack_retrying_a_mention_in_a_ticket_thread_adds_one_note(running: Running) -> None:
    slack = running.slack
    message = await open_ticket(running)
    sent = await slack.app_mention(
        user="U0ENG1",
        channel=message.channel,
        thread_ts=message.ts,
        text=f"<@{slack.bot_user_id}> note the gate is back up",
    )
    assert sent.status == 200
    await until(lambda: slack.ephemerals("U0ENG1"), what="the answer to the mention")
    before = await retried(running, sent)
    assert await snapshot(running) == before
    assert before["events"]["note"] == 1


async def test_slack_retrying_a_mention_offers_to_report_once(running: Running) -> None:
    slack = running.slack
    sent = await slack.app_mention(
        user="U0CUST", channel="C0CUST1", text="the barrier arm is stuck"
    )
    assert sent.status == 200
    await until(lambda: slack.ephemerals("U0CUST"), what="the offer to report")
    before = await retried(running, sent)
    assert await snapshot(running) == before
    assert replies(running) == 1


@pytest.mark.parametrize("via", ["button", "thread mention"])
async def test_a_retried_request_is_not_answered_twice(running: Running, via: str) -> None:
    slack = running.slack
    message = await open_ticket(running)
    if via == "button":
        sent = await slack.block_action(
            user="U0ENG1", action_id="ticket_take", channel=message.channel, message_ts=message.ts
        )
    else:
        sent = await slack.app_mention(
            user="U0ENG1", channel=message.channel, thread_ts=message.ts, text="note all clear"
        )
    await until(lambda: replies(running), what="the answer")
    await retried(running, sent)
    assert replies(running) == 1


async def test_slack_retrying_a_kb_article_submit_writes_one_article(running: Running) -> None:
    slack = running.slack
    sent = await slack.slash_command(
        user="U0ENG1", command="/kb", text="add Printer offline", channel="C0SUPPORT"
    )
    assert sent.status == 200
    form = await slack.wait_for(lambda: slack.modal("U0ENG1"))
    values = {"title": "Printer offline", "problem": "It shows offline", "answer": "Fixed IP"}
    saved = await slack.view_submission(user="U0ENG1", view_id=form.id, values=values)
    assert saved.json is not None and "KB-1" in json.dumps(saved.json)
    await retried(running, saved)
    async with running.bot.ctx.db.orm() as session:
        titles = (await session.scalars(select(KbEntryRow.title))).all()
    assert titles == ["Printer offline"]


async def test_slack_retrying_an_oncall_override_stores_one_override(running: Running) -> None:
    slack = running.slack
    sent = await slack.slash_command(
        user="U0MGR1", command="/oncall", text="override <@U0ENG3> 4h", channel="C0SUPPORT"
    )
    assert sent.status == 200
    await running.bot.ctx.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    await retried(running, sent)
    async with running.bot.ctx.db.orm() as session:
        ends = (await session.scalars(select(OnCallOverrideRow.end))).all()
    assert len(ends) == 1


async def test_slack_retrying_a_review_command_shares_its_files_once(running: Running) -> None:
    slack = running.slack
    await open_ticket(running)
    sent = await slack.slash_command(
        user="U0MGR1", command="/ticket", text="report", channel="C0SUPPORT"
    )
    assert sent.status == 200
    await until(lambda: slack.calls("files.completeUploadExternal"), what="the files shared")
    before = await retried(running, sent)
    assert await snapshot(running) == before
    assert len(slack.calls("files.completeUploadExternal")) == 1


@pytest.mark.parametrize("via", ["/report", "/ticket resolve", "Resolve button", "/kb add"])
async def test_slack_retrying_a_request_that_opened_a_form_gets_200_and_no_error(
    running: Running, via: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The first request opened the form with its trigger; the retry cannot (Slack answers
    ``exchanged_trigger_id``): the form is open already, so that is no error, and no 500."""
    slack = running.slack
    message = await open_ticket(running)
    if via == "Resolve button":
        sent = await slack.block_action(
            user="U0ENG1",
            action_id="ticket_resolve",
            channel=message.channel,
            message_ts=message.ts,
        )
    else:
        command, _, text = via.partition(" ")
        text += " 1" if command == "/ticket" else ""
        sent = await slack.slash_command(
            user="U0ENG1", command=command, text=text, channel="C0SUPPORT"
        )
    assert sent.status == 200
    await slack.wait_for(lambda: slack.modal("U0ENG1"))
    with caplog.at_level(logging.INFO):
        before = await retried(running, sent)
    after = await snapshot(running)
    for taken in (before, after):  # the retries' views.open, which Slack refuses
        taken["calls"].pop("views.open")
    assert after == before
    assert len([c for c in slack.calls("views.open") if c.ok]) == 1  # one form opened
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
