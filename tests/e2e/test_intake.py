"""Reporting a problem end to end: signed requests from the stand-in to the running bot."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.sandbox.standin import SlackStandIn
from bot.slack.manifest import manifest as manifest_text
from storage.tables import TicketEventRow, TicketRow
from tests.harness import Running


async def open_report(
    slack: SlackStandIn, *, user: str = "U0REP", channel: str = "C0RANDOM", text: str = ""
) -> str:
    sent = await slack.slash_command(user=user, command="/report", text=text, channel=channel)
    assert sent.status == 200
    modal = await slack.wait_for(lambda: slack.modal(user))
    assert modal.callback_id == "report"
    return modal.id


async def answer(slack: SlackStandIn, user: str, view_id: str, block: str, yes: bool) -> None:
    before = slack.views[view_id].hash
    sent = await slack.block_action(
        user=user,
        action_id="triage_answer",
        block_id=block,
        view_id=view_id,
        value="yes" if yes else "no",
    )
    assert sent.status == 200
    await slack.wait_for(lambda: slack.views[view_id].hash != before)


def block_ids(slack: SlackStandIn, view_id: str) -> list[str]:
    return [b.get("block_id", "") for b in slack.views[view_id].view["blocks"]]


async def count(running: Running, model: type) -> int:
    async with running.bot.ctx.db.orm() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_report_a_b_problem_through_the_modal(running: Running) -> None:
    slack = running.slack
    view_id = await open_report(slack, text="Invoices print blank")
    view = slack.views[view_id].view
    summary = next(b for b in view["blocks"] if b.get("block_id") == "summary")
    assert summary["element"]["initial_value"] == "Invoices print blank"
    assert [b for b in block_ids(slack, view_id) if b.startswith("triage_")] == ["triage_stopped"]

    await answer(slack, "U0REP", view_id, "triage_stopped", yes=False)
    assert "triage_affected" in block_ids(slack, view_id)  # the next question appears
    await answer(slack, "U0REP", view_id, "triage_affected", yes=True)
    result = next(
        b for b in slack.views[view_id].view["blocks"] if b.get("block_id") == "triage_result"
    )
    assert "Class B" in result["text"]["text"]  # the class and its meaning, before submitting

    sent = await slack.view_submission(
        user="U0REP",
        view_id=view_id,
        values={"summary": "Invoices print blank", "details": "Since this morning, <!channel>"},
    )
    assert sent.status == 200
    ack = sent.json
    assert ack["response_action"] == "update"
    assert "#1" in json.dumps(ack["view"]) and "class B" in json.dumps(ack["view"])

    async with running.bot.ctx.db.orm() as session:
        ticket = await session.get(TicketRow, 1)
        events = (await session.scalars(select(TicketEventRow))).all()
    assert ticket is not None and ticket.severity == "B" and ticket.post_channel == "C0SUPPORT"
    assert [e.kind for e in events] == ["reported"]

    # the ticket message reaches #support through the outbox, then its thread and the DM
    message = await slack.wait_for(lambda: next(iter(slack.messages("C0SUPPORT")), None))
    body = json.dumps(message.blocks)
    assert "#1 Invoices print blank" in body
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body
    assert "Respond by" in body and "<!date^" in body
    thread = await slack.wait_for(lambda: slack.messages("C0SUPPORT", message.ts)[1:] or None)
    assert "#1 opened by <@U0REP>" in thread[0].text
    dm = await slack.wait_for(lambda: slack.messages(slack.dm_channel("U0REP")) or None)
    assert "#1" in dm[0].text
    async with running.bot.ctx.db.orm() as session:
        stored = await session.get(TicketRow, 1)
    assert stored is not None and stored.message_ts == message.ts


async def test_an_a_problem_is_clear_after_one_yes(running: Running) -> None:
    slack = running.slack
    view_id = await open_report(slack)
    await answer(slack, "U0REP", view_id, "triage_stopped", yes=True)
    assert "triage_affected" not in block_ids(slack, view_id)
    sent = await slack.view_submission(
        user="U0REP", view_id=view_id, values={"summary": "All down", "details": "Nothing loads"}
    )
    assert sent.json["response_action"] == "update"
    async with running.bot.ctx.db.orm() as session:
        ticket = await session.get(TicketRow, 1)
    assert ticket is not None and ticket.severity == "A"


async def test_a_report_from_a_customer_channel_is_posted_there(running: Running) -> None:
    slack = running.slack
    view_id = await open_report(slack, channel="C0CUST1")
    for block in ("triage_stopped", "triage_affected", "triage_future"):
        await answer(slack, "U0REP", view_id, block, yes=False)
    assert "Class D" in json.dumps(slack.views[view_id].view)
    await slack.view_submission(
        user="U0REP", view_id=view_id, values={"summary": "Add CSV export", "details": "please"}
    )
    message = await slack.wait_for(lambda: next(iter(slack.messages("C0CUST1")), None))
    assert "Highway Monitoring Center" in json.dumps(message.blocks)
    assert slack.messages("C0SUPPORT") == []


async def test_empty_or_too_long_fields_and_open_questions_are_refused_in_the_modal(
    running: Running,
) -> None:
    slack = running.slack
    view_id = await open_report(slack)
    sent = await slack.view_submission(
        user="U0REP", view_id=view_id, values={"summary": "   ", "details": "x" * 3001}
    )
    ack = sent.json
    assert ack["response_action"] == "errors"
    assert set(ack["errors"]) == {"summary", "details", "triage_stopped"}
    assert slack.views[view_id].errors  # the modal stays open and shows the errors
    assert await count(running, TicketRow) == 0


async def test_the_message_shortcut_opens_the_form_with_the_message_text(running: Running) -> None:
    slack = running.slack
    said = slack.post_as_user(user="U0CUST", channel="C0CUST1", text="The gate camera is offline")
    sent = await slack.message_shortcut(
        user="U0REP", callback_id="report_message", channel="C0CUST1", message_ts=said.ts
    )
    assert sent.status == 200
    modal = await slack.wait_for(lambda: slack.modal("U0REP"))
    details = next(b for b in modal.view["blocks"] if b.get("block_id") == "details")
    assert details["element"]["initial_value"] == "The gate camera is offline"
    assert json.loads(modal.private_metadata) == {"channel": "C0CUST1"}


async def test_a_mention_offers_a_report_this_button_that_opens_the_form(running: Running) -> None:
    slack = running.slack
    sent = await slack.app_mention(
        user="U0CUST", channel="C0CUST1", text=f"<@{slack.bot_user_id}> the printer is on fire"
    )
    assert sent.status == 200
    offer = await slack.wait_for(lambda: slack.ephemerals("U0CUST") or None)
    assert "Report this" in json.dumps(offer[0].blocks)
    await slack.block_action(
        user="U0CUST", action_id="report_this", channel="C0CUST1", message_ts=offer[0].ts
    )
    modal = await slack.wait_for(lambda: slack.modal("U0CUST"))
    details = next(b for b in modal.view["blocks"] if b.get("block_id") == "details")
    assert details["element"]["initial_value"] == "the printer is on fire"


async def test_requests_with_a_bad_or_old_signature_get_401_and_change_nothing(
    running: Running,
) -> None:
    slack = running.slack
    for signing in ("wrong_secret", "old_timestamp", "unsigned"):
        sent = await slack.slash_command(
            user="U0REP", command="/report", channel="C0RANDOM", signing=signing
        )
        assert sent.status == 401, signing
    assert slack.modal("U0REP") is None
    assert slack.calls("views.open") == []


async def test_health_and_metrics(running: Running) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{running.url}/healthz") as response:
            assert response.status == 200
            health = await response.json()
            assert health["database"] == "ok"
            assert health["calendar"] == "followed"  # the start's pass (running waits for it)
        async with http.get(f"{running.url}/metrics") as response:
            text = await response.text()
    assert "escalator_outbox_pending" in text
    assert "escalator_slack_request_seconds" in text
    # a database that does not answer: 503
    db = running.bot.ctx.db
    healthy_engine = db.engine
    db.engine = create_async_engine("sqlite+aiosqlite:////nonexistent-dir/escalator.db")
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{running.url}/healthz") as response:
            assert response.status == 503
            assert (await response.json())["database"] == "unreachable"
    finally:
        await db.engine.dispose()
        db.engine = healthy_engine


async def test_health_names_a_worker_whose_passes_keep_failing(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aiohttp

    engine = running.bot.engine
    assert engine is not None

    async def broken() -> int:
        raise RuntimeError("a fault in a pass")

    async def health() -> tuple[int, dict[str, object]]:
        async with aiohttp.ClientSession() as http, http.get(f"{running.url}/healthz") as got:
            return got.status, await got.json()

    assert "failing" not in (await health())[1]
    monkeypatch.setattr(engine, "fire_due", broken)
    engine.wake()
    for _ in range(500):
        if engine.failures >= 3:
            break
        await asyncio.sleep(0.02)
    status, body = await health()
    assert status == 200 and body["failing"] == ["timer-engine"]  # requests are still served
    monkeypatch.undo()
    engine.wake()
    for _ in range(500):
        if engine.failures == 0:
            break
        await asyncio.sleep(0.02)
    assert "failing" not in (await health())[1]


async def test_a_triage_answer_shows_even_when_the_form_changed_meanwhile(
    running: Running,
) -> None:
    slack = running.slack
    view_id = await open_report(slack, text="Invoices print blank")
    # Slack's answer when the summary's matches updated the form between the click and ours
    slack.refuse("views.update", "hash_conflict", times=1)
    await answer(slack, "U0REP", view_id, "triage_stopped", yes=False)
    assert "triage_affected" in block_ids(slack, view_id)  # the next question is there
    summary = next(b for b in slack.views[view_id].view["blocks"] if b["block_id"] == "summary")
    assert summary["element"]["initial_value"] == "Invoices print blank"


async def test_an_out_of_warranty_reporter_is_told_a_manager_decides_first(
    running: Running,
) -> None:
    slack = running.slack
    view_id = await open_report(slack, channel="C0CUST2")  # Old Mill: warranty ended 2025
    await answer(slack, "U0REP", view_id, "triage_stopped", yes=False)
    await answer(slack, "U0REP", view_id, "triage_affected", yes=False)
    await answer(slack, "U0REP", view_id, "triage_future", yes=True)
    sent = await slack.view_submission(
        user="U0REP", view_id=view_id, values={"summary": "Export is slow", "details": "please"}
    )
    shown = json.dumps(sent.json["view"])
    assert "#1" in shown and "out-of-warranty" in shown and "manager" in shown
    dm = await slack.wait_for(lambda: slack.messages(slack.dm_channel("U0REP")) or None)
    assert "#1" in dm[0].text and "out-of-warranty" in dm[0].text and "manager" in dm[0].text
    # a report in warranty says nothing of the kind
    view_id = await open_report(slack, channel="C0CUST1")
    await answer(slack, "U0REP", view_id, "triage_stopped", yes=True)
    sent = await slack.view_submission(
        user="U0REP", view_id=view_id, values={"summary": "All down", "details": "now"}
    )
    assert "out-of-warranty" not in json.dumps(sent.json["view"])


async def test_a_problem_written_to_the_bot_by_direct_message_is_offered_a_report(
    running: Running,
) -> None:
    # The app's Messages tab takes messages, and Slack sends no app_mention for them.
    slack = running.slack
    manifest = yaml.safe_load(manifest_text())
    assert "message.im" in manifest["settings"]["event_subscriptions"]["bot_events"]
    dm = slack.dm_channel("U0CUST")
    sent = await slack.user_message(user="U0CUST", channel=dm, text="the printer is on fire")
    assert sent.status == 200
    offer = await slack.wait_for(lambda: slack.ephemerals("U0CUST") or None)
    assert "Report this" in json.dumps(offer[0].blocks)
    await slack.block_action(
        user="U0CUST", action_id="report_this", channel=dm, message_ts=offer[0].ts
    )
    modal = await slack.wait_for(lambda: slack.modal("U0CUST"))
    details = next(b for b in modal.view["blocks"] if b.get("block_id") == "details")
    assert details["element"]["initial_value"] == "the printer is on fire"
    # the bot's own messages there (its DMs) and edits offer nothing
    await slack.event(
        {"type": "message", "subtype": "message_changed", "channel": dm, "channel_type": "im"}
    )
    await slack.event(
        {
            "type": "message",
            "bot_id": "B0BOT",
            "user": slack.bot_user_id,
            "text": "hi",
            "channel": dm,
            "channel_type": "im",
            "ts": "1.000001",
        }
    )
    await asyncio.sleep(0.2)
    assert len(slack.ephemerals("U0CUST")) == 1
    # a screenshot with the problem's words is offered a report too
    said = slack.post_as_user(user="U0CUST", channel=dm, text="the scanner jams, see picture")
    shared = {"type": "message", "subtype": "file_share", "user": "U0CUST", "text": said.text}
    await slack.event({**shared, "channel": dm, "channel_type": "im", "ts": said.ts})
    await slack.wait_for(lambda: len(slack.ephemerals("U0CUST")) == 2 or None)


async def test_the_form_opens_and_asks_its_questions_while_the_database_is_away(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The knowledge base's matches are read from the database; the form must not wait on
    # them: the reporter's words and answers stay in the form, to be stored when it is back.
    @asynccontextmanager
    async def away() -> AsyncIterator[None]:
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked"))
        yield

    monkeypatch.setattr(running.bot.ctx.db, "read", away)
    slack = running.slack
    view_id = await open_report(slack, text="Invoices print blank")
    summary = next(b for b in slack.views[view_id].view["blocks"] if b["block_id"] == "summary")
    assert summary["element"]["initial_value"] == "Invoices print blank"
    await answer(slack, "U0REP", view_id, "triage_stopped", yes=False)
    assert "triage_affected" in block_ids(slack, view_id)  # the next question is asked


async def test_a_report_command_longer_than_a_summary_keeps_all_its_text(running: Running) -> None:
    slack = running.slack
    text = "The invoice printer stops after the first page " * 5  # 240 characters
    typed = text + "\nSince the update on Monday"
    view_id = await open_report(slack, text=typed)
    blocks = {b["block_id"]: b for b in slack.views[view_id].view["blocks"]}
    summary = blocks["summary"]["element"]["initial_value"]
    assert len(summary) <= 150 and summary.startswith("The invoice printer stops")
    details = blocks["details"]["element"]["initial_value"]
    assert details == typed
    # the form as it opened is accepted: nothing to shorten or move by hand
    await answer(slack, "U0REP", view_id, "triage_stopped", yes=True)
    sent = await slack.view_submission(
        user="U0REP", view_id=view_id, values={"summary": summary, "details": details}
    )
    assert sent.json["response_action"] == "update"


async def test_a_message_longer_than_the_form_holds_is_cut_and_the_reporter_told(
    running: Running,
) -> None:
    slack = running.slack
    text = "The gate camera is offline.\n" + "Log line: frame dropped\n" * 200  # 4,828 characters
    said = slack.post_as_user(user="U0CUST", channel="C0CUST1", text=text)
    await slack.message_shortcut(
        user="U0REP", callback_id="report_message", channel="C0CUST1", message_ts=said.ts
    )
    modal = await slack.wait_for(lambda: slack.modal("U0REP"))

    def details_block() -> dict[str, Any]:
        view = slack.views[modal.id].view
        return next(b for b in view["blocks"] if b.get("block_id") == "details")

    details = details_block()
    kept = details["element"]["initial_value"]
    assert len(kept) <= 3000 and kept.endswith("…") and text.startswith(kept[:-1])
    hint = json.dumps(details.get("hint"))
    assert str(len(text.strip())) in hint and "3000" in hint  # the reporter is told
    await answer(slack, "U0REP", modal.id, "triage_stopped", yes=False)
    assert details_block().get("hint") == details["hint"]  # and still told as they answer


async def test_a_report_form_slack_would_not_open_gives_the_typed_summary_back(
    running: Running,
) -> None:
    slack = running.slack
    slack.refuse("views.open", "expired_trigger_id", times=1)  # Slack was slow: too late
    sent = await slack.slash_command(
        user="U0REP", command="/report", text="Invoices print &lt;blank&gt;", channel="C0RANDOM"
    )
    assert sent.status == 200
    answer = await slack.wait_for(lambda: next(iter(slack.responses()), None))
    assert "/report" in json.dumps(answer.body)
    shown = [b["text"]["text"] for b in answer.body["blocks"] if b["text"]["type"] == "plain_text"]
    assert shown == ["/report Invoices print <blank>"]  # as typed, to send again


async def test_people_mentioned_in_a_reported_message_are_shown_by_name(running: Running) -> None:
    # Slack delivers a message's mentions as bare ids (<@U0ENG2>): the form shows the names
    slack = running.slack
    said = slack.post_as_user(
        user="U0CUST", channel="C0CUST1", text="<@U0ENG2> saw the gate camera go offline <!here>"
    )
    await slack.message_shortcut(
        user="U0REP", callback_id="report_message", channel="C0CUST1", message_ts=said.ts
    )
    modal = await slack.wait_for(lambda: slack.modal("U0REP"))
    details = next(b for b in modal.view["blocks"] if b.get("block_id") == "details")
    assert details["element"]["initial_value"] == "@eli saw the gate camera go offline @here"


async def test_a_mention_with_no_problem_in_it_says_how_to_report(running: Running) -> None:
    slack = running.slack
    sent = await slack.app_mention(user="U0CUST", channel="C0CUST1", text=f"<@{slack.bot_user_id}>")
    assert sent.status == 200
    said = await slack.wait_for(lambda: slack.ephemerals("U0CUST") or None, timeout=2)
    assert "/report" in said[0].text and "Report this" not in json.dumps(said[0].blocks)


async def test_a_message_of_files_alone_opens_the_form_with_the_files_named(
    running: Running,
) -> None:
    slack = running.slack
    said = slack.post_as_user(user="U0CUST", channel="C0CUST1", text="")
    link = "https://escalator.slack.com/files/U0CUST/F0GATE/gate.png"
    said.files = [{"id": "F0GATE", "name": "gate.png", "title": "gate.png", "permalink": link}]
    await slack.message_shortcut(
        user="U0REP", callback_id="report_message", channel="C0CUST1", message_ts=said.ts
    )
    modal = await slack.wait_for(lambda: slack.modal("U0REP"))
    details = next(b for b in modal.view["blocks"] if b.get("block_id") == "details")
    assert "gate.png" in details["element"]["initial_value"]
    assert link in details["element"]["initial_value"]  # where the engineer finds the file
