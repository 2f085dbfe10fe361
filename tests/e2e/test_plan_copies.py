"""A service-plan task asked of several people (a customer's inspection goes to every
manager): once one of them closes it, every copy says so and loses its buttons."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Config, parse_config
from storage.tables import SurveyAnswerRow
from tests.conftest import CONFIG_DATA
from tests.e2e.test_service_plan import action_ids, advance_to, dm, shanghai, updated
from tests.fakes import FakeClock
from tests.harness import Running, running_bot


@pytest.fixture
def config() -> Config:
    data: dict[str, Any] = json.loads(json.dumps(CONFIG_DATA))
    data["roles"]["managers"] = ["U0MGR1", "U0ENG3"]
    data["customers"] = data["customers"][:1]
    data["customers"][0] |= {"owner": "U0ENG2", "contacts": ["U0CUST"]}
    off = {"call": "", "survey": "", "visit": "", "training": ""}
    data["service_plan"] = {**off, "inspection": "1w"}
    return parse_config(data)


@pytest.fixture
async def running(db_url: str, config: Config, clock: FakeClock) -> AsyncIterator[Running]:
    async with running_bot(db_url, config, clock) as r:
        yield r


async def test_done_by_one_manager_settles_every_managers_copy(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    await advance_to(running, clock, shanghai("2026-11-30T08:30"))
    mine = await dm(slack, "U0MGR1", "Highway")
    other = await dm(slack, "U0ENG3", "Highway")
    assert action_ids(mine) == ["plan_done", "plan_skip"] == action_ids(other)
    await slack.block_action(
        user="U0MGR1", action_id="plan_done", channel=mine.channel, message_ts=mine.ts
    )
    await updated(slack, mine.channel, mine.ts, "Done by")
    await updated(slack, other.channel, other.ts, "Done by")
    assert action_ids(slack.message(other.channel, other.ts)) == []
    assert "<@U0MGR1>" in slack.message(other.channel, other.ts).text  # who closed it


@pytest.fixture
def survey_config() -> Config:
    data: dict[str, Any] = json.loads(json.dumps(CONFIG_DATA))
    data["customers"] = data["customers"][:1]
    data["customers"][0] |= {"owner": "U0ENG2", "contacts": ["U0CUST", "U0REP"]}
    off = {"call": "", "visit": "", "inspection": "", "training": ""}
    data["service_plan"] = {**off, "survey": "1w"}
    return parse_config(data)


async def test_a_survey_answered_by_one_contact_stays_open_to_the_others(
    db_url: str, survey_config: Config, clock: FakeClock
) -> None:
    """Each of the customer's contacts answers the survey once: the first answer thanks
    the one who gave it, and leaves the other contact's survey as it was, still to answer."""
    async with running_bot(db_url, survey_config, clock) as running:
        slack = running.slack
        await advance_to(running, clock, shanghai("2026-11-30T08:30"))
        carl = await dm(slack, "U0CUST", "service-quality survey")
        rita = await dm(slack, "U0REP", "service-quality survey")
        await slack.block_action(
            user="U0CUST", action_id="plan_survey", channel=carl.channel, message_ts=carl.ts
        )
        form = await slack.wait_for(lambda: slack.modal("U0CUST"))
        await slack.view_submission(user="U0CUST", view_id=form.id, values={"rating": "5"})
        await updated(slack, carl.channel, carl.ts, "Thank you")
        await asyncio.sleep(0.2)  # what else the answer updates, it has updated by now
        still = slack.message(rita.channel, rita.ts)
        assert still is not None and "<@U0CUST>" not in still.text
        assert action_ids(still) == ["plan_survey"]
        await slack.block_action(
            user="U0REP", action_id="plan_survey", channel=rita.channel, message_ts=rita.ts
        )
        form = await slack.wait_for(lambda: slack.modal("U0REP"))
        await slack.view_submission(user="U0REP", view_id=form.id, values={"rating": "3"})
        await updated(slack, rita.channel, rita.ts, "Thank you")
        async with running.bot.ctx.db.orm() as session:
            answers = (await session.scalars(select(SurveyAnswerRow))).all()
        assert sorted((a.user_id, a.rating) for a in answers) == [("U0CUST", 5), ("U0REP", 3)]
