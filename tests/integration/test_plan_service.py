"""Service-plan use cases against a real SQLite file: arming from the config, following a
changed cadence, refusals that change nothing, and survey answers once per contact."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.config import Config, parse_config
from bot.domain.service_plan import PlanTask
from bot.errors import UserError
from bot.services import plan
from bot.services.context import Context
from bot.services.review_post import arm_next_review
from storage import plan as plan_store
from storage.db import Database
from storage.tables import OutboxRow, PlanEventRow
from tests.conftest import CONFIG_DATA
from tests.fakes import FakeClock


def plan_config(**plan_table: str) -> Config:
    data = dict(CONFIG_DATA)
    data["customers"] = [
        {
            "name": "Highway Monitoring Center",
            "channel": "C0CUST1",
            "owner": "U0ENG2",
            "contacts": ["U0CUST"],
            "plan": dict(plan_table),
        }
    ]
    return parse_config(data)


@pytest.fixture
def config() -> Config:
    return plan_config(call="1w", survey="1w", visit="", inspection="", training="")


async def sent(ctx: Context) -> dict[PlanTask, int]:
    """The ids of the open (sent) occurrences by task."""
    async with ctx.db.read() as conn:
        return {t.task: t.id for t in await plan_store.open_tasks(conn)}


async def fire_after_a_week(ctx: Context, clock: FakeClock) -> dict[PlanTask, int]:
    await plan.sync(ctx)
    await clock.advance(timedelta(days=7))  # Monday 11-30 10:00: both weekly tasks due
    assert await plan.fire_due(ctx) == 2
    return await sent(ctx)


async def test_only_the_owner_or_a_manager_closes_a_task(ctx: Context, clock: FakeClock) -> None:
    ids = await fire_after_a_week(ctx, clock)
    assert (await plan.may_close(ctx, ids[PlanTask.CALL], "U0ENG2")).id == ids[PlanTask.CALL]
    for user in ("U0ENG1", "U0CUST"):
        with pytest.raises(UserError, match="not yours"):
            await plan.done(ctx, ids[PlanTask.CALL], user)
        with pytest.raises(UserError, match="not yours"):
            await plan.may_close(ctx, ids[PlanTask.CALL], user)  # before the Skip form
    with pytest.raises(UserError, match="not yours"):
        await plan.done(ctx, ids[PlanTask.SURVEY], "U0ENG2")  # a survey is answered, not done
    with pytest.raises(UserError, match="why"):
        await plan.skip(ctx, ids[PlanTask.CALL], "U0ENG2", "   ")
    closed = await plan.done(ctx, ids[PlanTask.CALL], "U0MGR1")
    assert closed.by == "U0MGR1"
    with pytest.raises(UserError, match="done by <@U0MGR1> already"):
        await plan.skip(ctx, ids[PlanTask.CALL], "U0ENG2", "late")
    with pytest.raises(UserError, match="done by <@U0MGR1> already"):
        await plan.may_close(ctx, ids[PlanTask.CALL], "U0ENG2")
    async with ctx.db.read() as conn:
        kinds = (await conn.execute(select(PlanEventRow.kind))).scalars().all()
    assert sorted(kinds) == ["done", "due", "due"]


async def test_a_survey_is_answered_once_per_contact(ctx: Context, clock: FakeClock) -> None:
    ids = await fire_after_a_week(ctx, clock)
    survey = ids[PlanTask.SURVEY]
    with pytest.raises(UserError, match="contacts"):
        await plan.answer_survey(ctx, survey, "U0ENG2", rating=5, comment="")
    with pytest.raises(UserError, match="1 to 5"):
        await plan.answer_survey(ctx, survey, "U0CUST", rating=6, comment="")
    await plan.answer_survey(ctx, survey, "U0CUST", rating=3, comment="slow replies")
    with pytest.raises(UserError, match="already"):
        await plan.answer_survey(ctx, survey, "U0CUST", rating=5, comment="")
    async with ctx.db.read() as conn:
        task = await plan_store.get_task(conn, survey)
    assert task is not None and task.state.value == "done" and task.closed_by == "U0CUST"


async def test_the_direct_messages_go_to_the_owner_and_the_contacts(
    ctx: Context, clock: FakeClock
) -> None:
    await fire_after_a_week(ctx, clock)
    async with ctx.db.read() as conn:
        rows = (await conn.execute(select(OutboxRow.kind, OutboxRow.payload))).all()
    users = sorted(p["user"] for k, p in rows if k == "dm")
    assert users == ["U0CUST", "U0ENG2"]


async def test_a_changed_cadence_moves_the_pending_task_and_off_drops_it(
    db: Database, clock: FakeClock
) -> None:
    ctx = Context(db=db, config=plan_config(call="1w"), clock=clock)
    await plan.sync(ctx)
    async with db.read() as conn:
        latest = await plan_store.latest_tasks(conn)
    assert latest[("Highway Monitoring Center", PlanTask.CALL)].nominal.isoformat() == "2026-11-30"
    later = dataclasses.replace(ctx, config=plan_config(call="2w"))
    await plan.sync(later)
    async with db.read() as conn:
        latest = await plan_store.latest_tasks(conn)
    assert latest[("Highway Monitoring Center", PlanTask.CALL)].nominal.isoformat() == "2026-12-07"
    off = dataclasses.replace(ctx, config=plan_config(call=""))
    await plan.sync(off)
    await plan.sync(off)  # twice changes nothing more
    async with db.read() as conn:
        latest = await plan_store.latest_tasks(conn)
        count = (await conn.execute(select(func.count()).select_from(plan_store.TASKS))).scalar()
    assert ("Highway Monitoring Center", PlanTask.CALL) not in latest
    assert count == 4  # survey, visit, inspection, training stay armed


async def test_a_monthly_task_from_the_31st_keeps_to_the_end_of_each_month(
    db: Database, clock: FakeClock
) -> None:
    """A monthly visit whose plan began on 2026-12-31 falls on 01-31, 02-28, 03-31, 04-30:
    a short month ends the month once, it does not pull every later month back to the 28th."""
    config = plan_config(call="", survey="", visit="1mo", inspection="", training="")
    ctx = Context(db=db, config=config, clock=clock)
    await clock.advance(datetime(2026, 12, 31, 2, 0, tzinfo=UTC) - clock.now())
    await plan.sync(ctx)
    for _ in range(4):
        async with db.read() as conn:
            due_at = await plan_store.next_due_at(conn)
        assert due_at is not None
        await clock.advance(due_at - clock.now())
        assert await plan.fire_due(ctx) == 1
    async with db.read() as conn:
        rows = await conn.execute(
            select(plan_store.TASKS.c.nominal).order_by(plan_store.TASKS.c.seq)
        )
        nominals = [day.isoformat() for day in rows.scalars()]
    assert nominals[:4] == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]


async def test_replicas_that_start_together_arm_the_plan_and_the_review_once(
    ctx: Context,
) -> None:
    """Two replicas' plan workers make their first pass at once (on PostgreSQL their writes
    run side by side): each task and the next review are armed once, and neither pass fails
    on the other's rows (a failed pass logs an error and turns /healthz to 503)."""
    await asyncio.gather(plan.sync(ctx), plan.sync(ctx), arm_next_review(ctx), arm_next_review(ctx))
    async with ctx.db.read() as conn:
        tasks = (await conn.execute(select(func.count()).select_from(plan_store.TASKS))).scalar()
        posts = await plan_store.pending_posts(conn)
    assert tasks == 2 and [p.month for p in posts] == ["2026-11"]
