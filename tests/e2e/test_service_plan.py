"""The service plan over HTTP on the fake clock: tasks fall due on working days, Done and
Skip are pressed, a survey is answered, a task is left overdue and shows in the App Home;
after downtime only the latest occurrence is sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import FAILING_PASSES
from bot.config import Config, parse_config
from bot.sandbox.standin import SlackStandIn, StoredMessage
from bot.services.plan_worker import PlanWorker
from storage.tables import PlanEventRow, PlanTaskRow, SurveyAnswerRow
from tests.conftest import CONFIG_DATA
from tests.fakes import FakeClock
from tests.harness import Running, running_bot

HIGHWAY = "Highway Monitoring Center"


@pytest.fixture
def config() -> Config:
    data: dict[str, Any] = json.loads(json.dumps(CONFIG_DATA))
    data["customers"][0] |= {"owner": "U0ENG2", "contacts": ["U0CUST"], "plan": {"call": "1w"}}
    data["service_plan"] = {"training": ""}
    return parse_config(data)


@pytest.fixture
async def running(db_url: str, config: Config, clock: FakeClock) -> AsyncIterator[Running]:
    async with running_bot(db_url, config, clock) as r:
        yield r


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


async def advance_to(running: Running, clock: FakeClock, when: datetime) -> None:
    """Move the clock and wait for the plan worker to have looked at that instant."""
    worker = running.bot.plan_worker
    assert worker is not None
    await passed(worker, 0)
    before = worker.passes
    await clock.advance(when - clock.now())
    await passed(worker, before)
    await asyncio.sleep(0.05)  # what the pass owes Slack goes out through the outbox


async def passed(worker: PlanWorker, count: int) -> None:
    for _ in range(1000):
        if worker.passes > count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the plan worker made no pass")


def dms(slack: SlackStandIn, user: str, words: str) -> list[StoredMessage]:
    return [m for m in slack.messages(slack.dm_channel(user)) if words in m.text]


async def dm(slack: SlackStandIn, user: str, words: str, count: int = 1) -> StoredMessage:
    found = await slack.wait_for(
        lambda: (lambda got: got[count - 1] if len(got) >= count else None)(dms(slack, user, words))
    )
    return found


async def updated(slack: SlackStandIn, channel: str, ts: str, words: str) -> StoredMessage:
    """The message once ``words`` show in it (after the bot's chat.update)."""

    def check() -> StoredMessage | None:
        message = slack.message(channel, ts)
        return message if message is not None and words in message.text else None

    return await slack.wait_for(check)


def action_ids(message: StoredMessage) -> list[str]:
    return [
        e.get("action_id", "")
        for b in message.blocks or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]


async def tasks(running: Running) -> list[tuple[str, str, str, str]]:
    async with running.bot.ctx.db.orm() as session:
        rows = await session.scalars(select(PlanTaskRow).order_by(PlanTaskRow.id))
        return [(r.customer, r.task, r.nominal.isoformat(), r.state) for r in rows]


async def event_kinds(running: Running) -> list[tuple[str, str]]:
    async with running.bot.ctx.db.orm() as session:
        rows = await session.scalars(select(PlanEventRow).order_by(PlanEventRow.id))
        return [(r.kind, r.actor_id) for r in rows]


async def test_a_plan_falls_due_is_done_skipped_answered_and_left_overdue(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    # Armed at start (Monday 2026-11-23): the weekly call is due Monday 11-30 at 08:30.
    await advance_to(running, clock, shanghai("2026-11-30T08:29"))
    assert dms(slack, "U0ENG2", "Call the customer") == []
    await advance_to(running, clock, shanghai("2026-11-30T08:30"))
    call = await dm(slack, "U0ENG2", "Call the customer")
    assert HIGHWAY in call.text and "due 2026-11-30" in call.text
    assert action_ids(call) == ["plan_done", "plan_skip"]

    # Done: the message says so and loses its buttons.
    dm_eng2 = slack.dm_channel("U0ENG2")
    await slack.block_action(
        user="U0ENG2", action_id="plan_done", channel=dm_eng2, message_ts=call.ts
    )
    done = await updated(slack, dm_eng2, call.ts, "Done by")
    assert action_ids(done) == []
    assert "<@U0ENG2>" in done.text

    # The next week: the second call, and Old Mill's fortnightly call (no owner: managers).
    await advance_to(running, clock, shanghai("2026-12-07T08:30"))
    second = await dm(slack, "U0ENG2", "Call the customer", count=2)
    old_mill = await dm(slack, "U0MGR1", "Old Mill")
    assert "Call the customer" in old_mill.text
    await slack.block_action(
        user="U0ENG2", action_id="plan_skip", channel=dm_eng2, message_ts=second.ts
    )
    form = await slack.wait_for(lambda: slack.modal("U0ENG2"))
    refused = await slack.view_submission(user="U0ENG2", view_id=form.id, values={"reason": " "})
    assert refused.json["response_action"] == "errors"
    await slack.view_submission(
        user="U0ENG2", view_id=form.id, values={"reason": "customer on leave <!here>"}
    )
    skipped = await updated(slack, dm_eng2, second.ts, "Skipped")
    assert "customer on leave &lt;!here&gt;" in json.dumps(skipped.blocks)
    assert action_ids(skipped) == []

    # Old Mill's call is left alone: once its fortnight is over it is overdue.
    await advance_to(running, clock, shanghai("2026-12-21T08:30"))
    await slack.app_home_opened(user="U0MGR1")
    home = await slack.wait_for(
        lambda: next(
            (h for h in [slack.home("U0MGR1")] if h and "plan: overdue" in json.dumps(h.view)),
            None,
        )
    )
    text = json.dumps(home.view, ensure_ascii=False)
    assert "Old Mill" in text and "due 2026-12-07" in text
    await slack.app_home_opened(user="U0ENG1")  # not theirs: not shown
    other = await slack.wait_for(lambda: slack.home("U0ENG1"))
    assert "Service plan: overdue" not in json.dumps(other.view)

    # The monthly survey (armed for 12-23) goes to the customer's contact, who answers it.
    await advance_to(running, clock, shanghai("2026-12-23T08:30"))
    survey = await dm(slack, "U0CUST", "service-quality survey")
    dm_cust = slack.dm_channel("U0CUST")
    await slack.block_action(
        user="U0CUST", action_id="plan_survey", channel=dm_cust, message_ts=survey.ts
    )
    form = await slack.wait_for(lambda: slack.modal("U0CUST"))
    await slack.view_submission(
        user="U0CUST", view_id=form.id, values={"rating": "4", "comment": "响应及时"}
    )
    answered = await updated(slack, dm_cust, survey.ts, "Thank you")
    assert action_ids(answered) == []
    async with running.bot.ctx.db.orm() as session:
        answer = (await session.scalars(select(SurveyAnswerRow))).one()
    assert (answer.user_id, answer.rating, answer.comment) == ("U0CUST", 4, "响应及时")

    kinds = await event_kinds(running)
    assert ("done", "U0ENG2") in kinds and ("skipped", "U0ENG2") in kinds
    assert ("answered", "U0CUST") in kinds
    rows = await tasks(running)
    highway_calls = [r for r in rows if r[0] == HIGHWAY and r[1] == "call"]
    assert [r[3] for r in highway_calls[:2]] == ["done", "skipped"]
    old_mill_calls = [r for r in rows if r[0] == "Old Mill" and r[1] == "call"]
    assert old_mill_calls[0][2:] == ("2026-12-07", "open")
    assert not any(r[1] == "training" for r in rows)  # turned off with ""


async def test_a_failing_pass_shows_in_healthz_and_the_worker_carries_on(
    running: Running, clock: FakeClock
) -> None:
    import aiohttp

    from storage.tables import ReviewPostRow

    worker = running.bot.plan_worker
    assert worker is not None
    await passed(worker, 0)
    worker.backoff = timedelta(milliseconds=20)  # real time: three passes in a moment
    table = ReviewPostRow.__table__
    async with running.bot.ctx.db.write() as conn:  # the worker's next passes fail on it
        await conn.run_sync(lambda sync: table.drop(sync))
    before = worker.passes
    worker.wake()
    for _ in range(1000):
        if worker.failures >= FAILING_PASSES:
            break
        await asyncio.sleep(0.01)
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/healthz") as got:
        # named, but still 200: the bot answers requests, and a load balancer that took
        # every replica out for a database blip would stop them all
        assert got.status == 200 and "service-plan" in (await got.json())["failing"]
    async with running.bot.ctx.db.write() as conn:
        await conn.run_sync(lambda sync: table.create(sync))
    await passed(worker, before)
    assert worker.healthy
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/healthz") as got:
        assert got.status == 200 and "failing" not in await got.json()


async def test_slack_retrying_a_done_click_changes_and_says_nothing_more(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    await advance_to(running, clock, shanghai("2026-11-30T08:30"))
    call = await dm(slack, "U0ENG2", "Call the customer")
    dm_eng2 = slack.dm_channel("U0ENG2")
    sent = await slack.block_action(
        user="U0ENG2", action_id="plan_done", channel=dm_eng2, message_ts=call.ts
    )
    await updated(slack, dm_eng2, call.ts, "Done by")
    await asyncio.sleep(0.1)
    before = (await event_kinds(running), len(slack.ephemerals("U0ENG2")))
    again = await slack.resend(sent, retry_num=1, retry_reason="http_timeout")
    assert again.status == 200
    await asyncio.sleep(0.3)  # the listener answers after its ack
    assert (await event_kinds(running), len(slack.ephemerals("U0ENG2"))) == before
    assert before[0].count(("done", "U0ENG2")) == 1
