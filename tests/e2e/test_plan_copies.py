"""A service-plan task asked of several people (a customer's inspection goes to every
manager): once one of them closes it, every copy says so and loses its buttons."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.config import Config, parse_config
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
