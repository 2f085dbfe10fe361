"""A Chinese support team: the workspace speaks zh-CN and so do its people, but for one
engineer whose Slack is in English (U0ENG3)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import replace

import pytest

from bot.config import Config, parse_config
from bot.sandbox.standin import SlackStandIn
from tests.escalation.support import CONFIG, timer_config
from tests.fakes import FakeClock
from tests.harness import BOT_TOKEN, CHANNELS, SIGNING_SECRET, USERS, Running, running_bot

ENGLISH_READER = "U0ENG3"


def team(workspace: str, locales: Mapping[str, str] | None = None) -> tuple[Config, SlackStandIn]:
    """A workspace speaking ``workspace`` whose people use Slack in Chinese (one in English),
    or each in the locale ``locales`` gives (zh-CN for the others)."""
    config = parse_config({**CONFIG, "language": workspace})
    if locales is None:
        locales = {ENGLISH_READER: "en-US"}
    users = [replace(user, locale=locales.get(user.id, "zh-CN")) for user in USERS]
    slack = SlackStandIn(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, users=users, channels=CHANNELS
    )
    return config, slack


@pytest.fixture
async def zh_running(db_url: str, clock: FakeClock) -> AsyncIterator[Running]:
    config, slack = team("zh-CN")
    await slack.start()
    try:
        async with running_bot(db_url, config, clock, slack=slack) as running:
            yield running
    finally:
        await slack.stop()


@pytest.fixture
async def en_running(db_url: str, clock: FakeClock) -> AsyncIterator[Running]:
    async with running_bot(db_url, timer_config(language="en"), clock) as running:
        yield running
