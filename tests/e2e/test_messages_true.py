"""Every message stays true (SPEC §6), over real HTTP: signed requests from the stand-in to
the running bot, the fake clock for the deadlines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.config import Config
from bot.domain.notices import NoticeKind
from bot.domain.tickets import ReportDraft
from bot.domain.workflow import Prompt
from bot.sandbox.standin import SlackStandIn, StoredMessage
from bot.services.intake import report
from bot.services.steps import load
from bot.sla.policy import Severity
from storage.tables import OutboxRow, TimerRow
from tests.e2e.test_intake import answer
from tests.e2e.test_tickets import events, latest, open_ticket, say, ticket
from tests.fakes import FakeClock
from tests.harness import Running, running_bot


def elements(message: StoredMessage) -> list[str]:
    """The labels of the message's buttons."""
    return [
        e["text"]["text"]
        for b in message.blocks or []
        if b.get("type") == "actions"
        for e in b.get("elements", [])
    ]


def deadline_fields(message: StoredMessage) -> list[str]:
    block = next(b for b in message.blocks or [] if b.get("block_id") == "deadlines")
    return [field["text"] for field in block["fields"]]


async def fire(running: Running) -> None:
    engine = running.bot.engine
    assert engine is not None
    while await engine.fire_due():
        pass


async def dm_with(slack: SlackStandIn, user: str, words: str) -> StoredMessage:
    return await slack.wait_for(
        lambda: next((m for m in slack.messages(slack.dm_channel(user)) if words in m.text), None)
    )


async def once(
    slack: SlackStandIn, message: StoredMessage, test: Callable[[StoredMessage], bool]
) -> StoredMessage:
    """The message as it is once ``test`` holds for it (it is updated in place)."""

    def now() -> StoredMessage | None:
        found = slack.message(message.channel, message.ts)
        return found if found is not None and test(found) else None

    return await slack.wait_for(now)


async def answer_to(slack: SlackStandIn, user: str, words: str) -> str:
    """The private answer ``user`` got that says ``words`` (an ephemeral message)."""
    found = await slack.wait_for(
        lambda: next((e for e in slack.ephemerals(user) if words in e.text), None)
    )
    return found.text


async def test_an_old_no_not_yet_after_the_sign_off_changes_nothing_and_says_why(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    await open_ticket(running, Severity.C)
    await say(slack, "U0ENG1", "ack 1")
    card = slack.messages("C0SUPPORT")[0]
    await slack.block_action(
        user="U0ENG1", action_id="ticket_resolve", channel=card.channel, message_ts=card.ts
    )
    checklist = await slack.wait_for(lambda: slack.modal("U0ENG1"))
    await slack.view_submission(user="U0ENG1", view_id=checklist.id, values={"resolution": "fixed"})
    ask = await dm_with(slack, "U0REP", "Is it fixed?")
    assert elements(ask) == ["Yes, it is fixed", "No, not yet"]

    # Slack refuses to update messages for a while: the old sign-off keeps its buttons.
    slack.fail("chat.update", times=None)
    await slack.block_action(
        user="U0REP", action_id="confirm_yes", channel=ask.channel, message_ts=ask.ts
    )
    rating = await slack.wait_for(lambda: slack.modal("U0REP"))
    await slack.view_submission(user="U0REP", view_id=rating.id, values={"rating": "4"})
    assert (await ticket(running)).state == "closed"
    assert elements(await latest(slack, ask)) == ["Yes, it is fixed", "No, not yet"]

    await slack.block_action(
        user="U0REP", action_id="confirm_no", channel=ask.channel, message_ts=ask.ts
    )
    why = await answer_to(slack, "U0REP", "answered already")
    assert "/ticket reopen 1" in why
    row = await ticket(running)
    assert row.state == "closed" and row.rating == 4
    assert (await events(running))[-1] == "confirm"
    assert not [e for e in slack.ephemerals("U0ENG1") if "answered already" in e.text]

    # Once Slack takes updates again, both sign-off messages say what happened, no buttons.
    slack.clear_faults()
    await clock.advance(timedelta(minutes=10))  # past the delivery's backoff
    running.bot.delivery.wake()
    thread = await slack.wait_for(
        lambda: next(
            (m for m in slack.messages(card.channel, card.ts) if "Is it fixed?" in m.text), None
        )
    )
    for message in (ask, thread):
        settled = await once(slack, message, lambda m: not elements(m))
        said = json.dumps(settled.blocks)
        assert "confirmed the fix of #1 and rated it 4/5" in said


async def test_an_approval_once_decided_says_so_and_loses_its_buttons(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    await open_ticket(running, Severity.C, channel="C0CUST2")  # out of warranty: asks
    ask = await dm_with(slack, "U0MGR1", "out-of-warranty request")
    assert elements(ask) == ["Accept", "Decline"]
    slack.fail("chat.update", times=None)  # the old message keeps its buttons a while
    await slack.block_action(
        user="U0MGR1", action_id="approval_accept", channel=ask.channel, message_ts=ask.ts
    )
    await answer_to(slack, "U0MGR1", "You accepted #1")
    # Decline, pressed on the old message: nothing changes, and the manager is told why.
    await slack.block_action(
        user="U0MGR1", action_id="approval_decline", channel=ask.channel, message_ts=ask.ts
    )
    await answer_to(slack, "U0MGR1", "it cannot be declined now")
    assert slack.modal("U0MGR1") is None
    assert (await ticket(running)).state == "open"
    slack.clear_faults()
    await clock.advance(timedelta(minutes=10))
    running.bot.delivery.wake()
    settled = await once(slack, ask, lambda m: not elements(m))
    assert "accepted #1 (out of warranty)" in json.dumps(settled.blocks)


async def test_the_card_shows_overdue_once_a_deadline_passes(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    card = await open_ticket(running, Severity.C)
    assert any("Respond by" in f and "left" in f for f in deadline_fields(card))
    t = await load(running.bot.ctx, 1)
    respond = running.bot.ctx.deadlines(t)["respond"]
    await clock.advance(respond - clock.now() + timedelta(seconds=1))
    await fire(running)
    updated = await once(slack, card, lambda m: bool(m.edits))
    respond_field = next(f for f in deadline_fields(updated) if "Respond" in f)
    assert ":warning:" in respond_field and "overdue" in respond_field
    assert "left" not in respond_field
    # the stage that showed it fired once; it is not armed again
    async with running.bot.ctx.db.orm() as session:
        keys = list(
            await session.scalars(select(TimerRow.key).where(TimerRow.fired_at.is_not(None)))
        )
    assert keys.count("respond:overdue") == 1


async def test_a_manager_pressing_every_button_of_the_card(running: Running) -> None:
    slack = running.slack
    card = await open_ticket(running, Severity.A)
    assert elements(card) == ["Acknowledge", "Take", "Resolve", "Escalate"]
    answers: dict[str, str] = {}
    for action_id, words in (
        ("ticket_ack", "Only an engineer can ack #1"),
        ("ticket_resolve", "Only an engineer can resolve #1"),
        ("ticket_take", "#1 is yours"),
        ("ticket_escalate", "#1 is escalated"),
    ):
        sent = await slack.block_action(
            user="U0MGR1", action_id=action_id, channel=card.channel, message_ts=card.ts
        )
        assert sent.status == 200
        answers[action_id] = await answer_to(slack, "U0MGR1", words)
    row = await ticket(running)
    assert row.acknowledged_at is None and row.resolved_at is None  # refused: unchanged
    assert row.assignee_id == "U0MGR1"
    assert slack.modal("U0MGR1") is None  # no checklist opened for a manager
    # every answer went to the manager alone
    others = [e.text for u in ("U0REP", "U0ENG1", "U0ENG2", "U0ENG3") for e in slack.ephemerals(u)]
    assert not any(text in others for text in answers.values())
    assert (await events(running))[-2:] == ["take", "escalate"]


async def test_user_text_in_the_card_plain_text_as_typed_mrkdwn_escaped_nothing_cut_in_two(
    running: Running,
) -> None:
    slack = running.slack
    draft = ReportDraft(
        summary="R&D <team> > ops",
        details="&" * 2990 + " <@U0ENG1>",
        system="a<b",
        severity=Severity.B,
        reporter_id="U0REP",
        origin_channel="C0RANDOM",
    )
    await report(running.bot.ctx, draft=draft, intake_key=None)
    card = await slack.wait_for(lambda: next(iter(slack.messages("C0SUPPORT")), None))
    header = card.blocks[0] if card.blocks else {}
    assert header["type"] == "header" and header["text"]["text"] == "#1 R&D <team> > ops"
    details = next(
        b["text"]["text"] for b in card.blocks or [] if b.get("type") == "section" and "text" in b
    )
    assert len(details) <= 3000 and details.endswith("&amp;…")
    assert "<@U0ENG1>" not in json.dumps(card.blocks)
    assert "a&lt;b" in json.dumps(card.blocks)


async def test_a_fix_date_is_shown_as_that_day(running: Running) -> None:
    slack = running.slack
    card = await open_ticket(running, Severity.A)
    await say(slack, "U0ENG1", "cause 1 disk full")
    await say(slack, "U0ENG1", "plan 1 new disk by 2026-12-02")
    updated = await once(slack, card, lambda m: "Resolve by" in json.dumps(m.blocks))
    resolve = next(f for f in deadline_fields(updated) if "Resolve" in f)
    assert "2026-12-02" in resolve and "<!date^" not in resolve


async def test_report_this_fills_the_form_and_is_replaced_by_the_ticket(running: Running) -> None:
    slack = running.slack
    text = "The printer is on fire\nIt started at 9:00 & smells <bad>, ask @eli.\n" + "x" * 2500
    # as Slack delivers it: "&", "<", ">" as entities, mentions as tokens
    sent = (
        f"<@{slack.bot_user_id}> The printer is on fire\nIt started at 9:00 &amp; smells "
        "&lt;bad&gt;, ask <@U0ENG2|eli>.\n" + "x" * 2500
    )
    await slack.app_mention(user="U0CUST", channel="C0CUST1", text=sent)
    offer = await slack.wait_for(lambda: slack.ephemerals("U0CUST") or None)
    await slack.block_action(
        user="U0CUST", action_id="report_this", channel="C0CUST1", message_ts=offer[0].ts
    )
    modal = await slack.wait_for(lambda: slack.modal("U0CUST"))
    values: dict[str, Any] = {
        b["block_id"]: b["element"].get("initial_value")
        for b in modal.view["blocks"]
        if b.get("block_id") in ("summary", "details")
    }
    assert values == {"summary": "The printer is on fire", "details": text}
    await answer(slack, "U0CUST", modal.id, "triage_stopped", yes=True)
    sent = await slack.view_submission(user="U0CUST", view_id=modal.id)  # sent as it opened
    assert sent.status == 200 and sent.json["response_action"] == "update"
    row = await ticket(running)
    assert row.summary == "The printer is on fire" and row.details == text
    replaced = await slack.wait_for(
        lambda: next((e for e in slack.ephemerals("U0CUST") if "Reported as #1" in e.text), None)
    )
    assert replaced.ts == offer[0].ts and not replaced.blocks


async def test_a_mention_in_a_tickets_thread_is_a_note_not_a_new_report(running: Running) -> None:
    slack = running.slack
    card = await open_ticket(running, Severity.B)
    await slack.app_mention(
        user="U0REP", channel=card.channel, text="it happens again now", thread_ts=card.ts
    )
    await answer_to(slack, "U0REP", "Note added to #1")
    assert (await events(running))[-1] == "note"
    assert not [e for e in slack.ephemerals("U0REP") if "Report this" in json.dumps(e.blocks)]
    # someone not involved gets the help, not an offer
    await slack.app_mention(user="U0CUST", channel=card.channel, text="me too", thread_ts=card.ts)
    await answer_to(slack, "U0CUST", "In the thread of #1")
    assert (await events(running))[-1] == "note"
    assert len(await events(running)) == 2
    # a step word followed by a mark, as a Chinese keyboard types it, is the step, not a note
    await slack.app_mention(user="U0ENG1", channel=card.channel, text="确认。", thread_ts=card.ts)
    await answer_to(slack, "U0ENG1", "You acknowledged #1")
    await slack.app_mention(
        user="U0ENG1", channel=card.channel, text="原因：磁盘满了", thread_ts=card.ts
    )
    await answer_to(slack, "U0ENG1", "Cause recorded")
    assert (await events(running))[-2:] == ["ack", "cause"]


async def test_the_months_figures_count_the_first_acknowledgement_after_a_reopen(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    await open_ticket(running, Severity.A)
    await clock.advance(timedelta(minutes=5))
    await say(slack, "U0ENG1", "ack 1")  # in time: respond is due at 15 minutes
    await say(slack, "U0ENG1", "close 1")
    await clock.advance(timedelta(hours=2))
    await say(slack, "U0REP", "reopen 1")
    await clock.advance(timedelta(hours=1))  # the new round is overdue and unacknowledged
    text = await say(slack, "U0MGR1", "report 2026-11")
    assert "Respond: 1/1 in time" in text


STEP_WORDS = ["the disk is full", "free the disk", "freed"]  # said in the steps' lines


async def test_steps_taken_within_the_channels_second_cost_one_update_of_the_card(
    db_url: str, config: Config, clock: FakeClock
) -> None:
    """At Slack's real pace (a message a second in the ticket's channel), steps that owe a
    refresh of the card while it waits its turn are shown by one update, drawn as the ticket
    is when it goes out; each step's line in the thread still comes, in order."""
    async with running_bot(db_url, config, clock, real_pacing=True) as running:
        slack = running.slack
        card = await open_ticket(running)
        steps = ["ack 1", "cause 1 the disk is full", "plan 1 free the disk", "note 1 freed"]
        for step in steps:
            await say(slack, "U0ENG1", step)
        await slack.wait_for(
            lambda: any("freed" in m.text for m in slack.messages(card.channel, card.ts)),
            timeout=30,  # a line a second
        )
        shown = await once(slack, card, lambda m: "planned" in json.dumps(m.blocks))
        thread = [m.text for m in slack.messages(card.channel, card.ts)[1:]]
    updates = [c for c in slack.calls("chat.update") if c.params.get("ts") == card.ts]
    assert 1 <= len(updates) < len(steps), f"{len(updates)} updates for {len(steps)} steps"
    assert len(shown.edits) == len(updates)
    said = [next(i for i, line in enumerate(thread) if words in line) for words in STEP_WORDS]
    assert said == sorted(said), thread  # every step's line, in the order of the steps


async def test_an_is_it_fixed_that_goes_out_after_the_close_says_so_without_buttons(
    running: Running, clock: FakeClock
) -> None:
    """Slack refused the reporter's DM for a while; the ticket was closed meanwhile. The DM
    that finally goes out says how the ticket ended, not Yes / No."""
    slack = running.slack
    card = await open_ticket(running, Severity.C)
    await say(slack, "U0ENG1", "ack 1")
    dm = slack.dm_channel("U0REP")
    slack.fail("chat.postMessage", channel=dm, times=None)
    await slack.block_action(
        user="U0ENG1", action_id="ticket_resolve", channel=card.channel, message_ts=card.ts
    )
    modal = await slack.wait_for(lambda: slack.modal("U0ENG1"))
    await slack.view_submission(user="U0ENG1", view_id=modal.id, values={"resolution": "fixed"})
    asked = await slack.wait_for(
        lambda: next(
            (m for m in slack.messages(card.channel, card.ts) if "Is it fixed?" in m.text), None
        )
    )
    await say(slack, "U0ENG1", "close 1")
    settled = await once(slack, asked, lambda m: not elements(m))  # the thread's copy
    for _ in range(1500):  # the worker records the DM's failure (after slack_sdk's retries)
        async with running.bot.ctx.db.orm() as session:
            failed = await session.scalar(
                select(OutboxRow.attempts).where(
                    OutboxRow.kind == NoticeKind.DM,
                    OutboxRow.payload["prompt"].as_string() == Prompt.SIGNOFF.value,
                )
            )
        if failed:
            break
        await asyncio.sleep(0.01)
    slack.clear_faults()
    await clock.advance(timedelta(minutes=10))  # the DM's retry falls due
    running.bot.delivery.wake()
    late = await slack.wait_for(
        lambda: next((m for m in slack.messages(dm) if "Is it fixed?" in m.text), None)
    )
    assert not elements(late) and late.text == settled.text
