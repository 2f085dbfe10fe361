from collections.abc import AsyncIterator

import pytest

from bot.config import Config
from bot.sandbox.standin import SlackStandIn
from bot.services.delivery import DeliverySettings, Pacing
from tests.fakes import FakeClock
from tests.harness import BOT_TOKEN, CHANNELS, SIGNING_SECRET, USERS, Running, running_bot


@pytest.fixture
async def running(db_url: str, config: Config, clock: FakeClock) -> AsyncIterator[Running]:
    """The real bot over HTTP against the stand-in; Slack's posting pace is lifted (the
    pacer is tested elsewhere) so that a burst of notices does not take minutes."""
    pacing = Pacing(rate=500.0, burst=500)
    async with running_bot(db_url, config, clock, delivery=DeliverySettings(pacing=pacing)) as r:
        yield r


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    standin = SlackStandIn(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, users=USERS, channels=CHANNELS
    )
    await standin.start()
    yield standin
    await standin.stop()
