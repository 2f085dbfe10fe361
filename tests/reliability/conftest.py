from collections.abc import AsyncIterator

import pytest

from bot.config import Config
from bot.services.delivery import DeliverySettings, Pacing
from tests.fakes import FakeClock
from tests.harness import Running, running_bot


@pytest.fixture
async def running(db_url: str, config: Config, clock: FakeClock) -> AsyncIterator[Running]:
    """The real bot over HTTP against the stand-in; Slack's posting pace is lifted (the
    pacer is tested elsewhere) so that a burst of notices does not take minutes."""
    pacing = Pacing(rate=500.0, burst=500)
    async with running_bot(db_url, config, clock, delivery=DeliverySettings(pacing=pacing)) as r:
        yield r
