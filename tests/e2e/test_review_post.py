"""The month's review posted by itself in [report].channel on the first working day of the
next month: after the National Day holiday that is Thursday 2026-10-08, not October 1. After
downtime only the latest review, and the latest occurrence of each plan task, is sent."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import select

from bot.config import Config
from bot.domain.tickets import ReportDraft
from bot.services.delivery.worker import DeliverySettings
from bot.services.intake import report
from bot.services.plan_worker import PlanWorker
from bot.sla.policy import Severity
from storage.tables import PlanTaskRow, ReviewPostRow
from tests.fakes import FakeClock
from tests.harness import FAST, Running, running_bot


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(shanghai("2026-09-30T10:00"))


@pytest.fixture
async def running(db_url: str, config: Config, clock: FakeClock) -> AsyncIterator[Running]:
    async with running_bot(db_url, config, clock) as r:
        yield r


async def advance_to(running: Running, clock: FakeClock, when: datetime) -> None:
    worker = running.bot.plan_worker
    assert worker is not None
    await passed(worker, 0)
    before = worker.passes
    await clock.advance(when - clock.now())
    await passed(worker, before)


async def passed(worker: PlanWorker, count: int) -> None:
    for _ in range(3000):
        if worker.passes > count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the plan worker made no pass")


async def a_september_ticket(running: Running) -> None:
    draft = ReportDraft(
        summary="打印机不工作",
        details="details",
        system="",
        severity=Severity.C,
        reporter_id="U0REP",
        origin_channel="C0CUST1",
    )
    await report(running.bot.ctx, draft=draft, intake_key=None)


def reviews(running: Running) -> list[str]:
    """The review messages posted (not the comments on their files)."""
    return [
        m.text
        for m in running.slack.messages("C0MANAGERS")
        if m.text.startswith("Support report") and not m.files
    ]


async def test_the_review_waits_for_the_first_working_day_after_the_holiday(
    running: Running, clock: FakeClock
) -> None:
    await a_september_ticket(running)
    await advance_to(running, clock, shanghai("2026-10-01T08:30"))  # National Day
    await advance_to(running, clock, shanghai("2026-10-07T23:59"))
    assert reviews(running) == []
    await advance_to(running, clock, shanghai("2026-10-08T08:30"))
    slack = running.slack
    shared = await slack.wait_for(
        lambda: next((m for m in slack.messages("C0MANAGERS") if m.files), None), timeout=20
    )
    posted = reviews(running)
    assert posted[0].startswith("Support report 2026-09: 1 tickets")
    first = slack.messages("C0MANAGERS")[0]
    assert "*Reports by class* (1)\\nA: 0 · B: 0 · C: 1 · D: 0" in json.dumps(
        first.blocks, ensure_ascii=False
    )
    assert shared.files is not None
    png = slack.file(shared.files[0]["id"])
    assert png is not None and png.content is not None
    assert Image.open(io.BytesIO(png.content)).size == (1100, 750)
    async with running.bot.ctx.db.orm() as session:
        rows = (await session.scalars(select(ReviewPostRow).order_by(ReviewPostRow.month))).all()
    assert [(r.month, r.outcome) for r in rows] == [("2026-09", "sent"), ("2026-10", None)]
    assert rows[1].due_at == shanghai("2026-11-02T08:30")


async def test_after_downtime_only_the_latest_review_and_task_are_sent(
    running: Running, clock: FakeClock
) -> None:
    await advance_to(running, clock, shanghai("2026-12-02T10:00"))
    slack = running.slack
    await slack.wait_for(
        lambda: next((m for m in slack.messages("C0MANAGERS") if m.files), None), timeout=20
    )
    assert [t.split(":")[0] for t in reviews(running)] == ["Support report 2026-11"]
    async with running.bot.ctx.db.orm() as session:
        posts = (await session.scalars(select(ReviewPostRow).order_by(ReviewPostRow.month))).all()
        calls = (
            await session.scalars(
                select(PlanTaskRow)
                .where(PlanTaskRow.customer == "Old Mill", PlanTaskRow.task == "call")
                .order_by(PlanTaskRow.seq)
            )
        ).all()
    assert [(p.month, p.outcome) for p in posts] == [
        ("2026-09", "superseded"),
        ("2026-11", "sent"),
        ("2026-12", None),
    ]
    # Old Mill's fortnightly call from 09-30: 10-14, 10-28, 11-11 superseded, 11-25 sent.
    assert [(c.nominal.isoformat(), c.state) for c in calls] == [
        ("2026-10-14", "superseded"),
        ("2026-10-28", "superseded"),
        ("2026-11-11", "superseded"),
        ("2026-11-25", "open"),
        ("2026-12-09", "pending"),
    ]
    old_mill = [
        m.text
        for m in slack.messages(slack.dm_channel("U0MGR1"))
        if "Call the customer" in m.text and "Old Mill" in m.text
    ]
    assert len(old_mill) == 1 and "due 2026-11-25" in old_mill[0]  # one message, the latest


async def test_a_review_whose_files_fail_is_posted_once(running: Running, clock: FakeClock) -> None:
    await a_september_ticket(running)
    slack = running.slack
    slack.refuse("files.getUploadURLExternal", "not_allowed_token_type", times=None)
    await advance_to(running, clock, shanghai("2026-10-08T08:30"))
    await slack.wait_for(lambda: reviews(running) or None, timeout=20)
    async with running.bot.ctx.db.orm() as session:
        post = await session.get(ReviewPostRow, "2026-09")
    assert post is not None and post.outcome == "sent"
    assert post.last_error is not None and "files not shared" in post.last_error
    # past the claim's lease and any retry: the message is not posted again
    await advance_to(running, clock, shanghai("2026-10-08T10:30"))
    assert len(reviews(running)) == 1
    assert not any(m.files for m in slack.messages("C0MANAGERS"))


async def test_a_review_slack_took_but_did_not_answer_in_time_is_posted_once(
    db_url: str, config: Config, clock: FakeClock
) -> None:
    """Slack posts the review but its answer comes after the call's timeout: the retry
    finds the message (its metadata names the month) and posts neither it nor its files
    again."""
    settings = DeliverySettings(pacing=FAST, call_timeout=1.0)
    async with running_bot(db_url, config, clock, delivery=settings) as running:
        await a_september_ticket(running)
        slack = running.slack
        slack.hang("chat.postMessage", 2.0, channel="C0MANAGERS")
        await advance_to(running, clock, shanghai("2026-10-08T08:30"))
        await slack.wait_for(lambda: reviews(running) or None, timeout=20)
        await asyncio.sleep(1.5)  # the first try has timed out by now
        for hour in ("09", "10", "11"):  # past every retry and the claim's lease
            await advance_to(running, clock, shanghai(f"2026-10-08T{hour}:30"))
        assert len(reviews(running)) == 1
        assert len([m for m in slack.messages("C0MANAGERS") if m.files]) == 1
        async with running.bot.ctx.db.orm() as session:
            post = await session.get(ReviewPostRow, "2026-09")
        assert post is not None and post.outcome == "sent"
