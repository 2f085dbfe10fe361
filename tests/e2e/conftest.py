from collections.abc import AsyncIterator

import pytest

from bot.config import Config
from tests.fakes import FakeClock
from tests.harness import Running, running_bot


@pytest.fixture
async def running(db_url: str, config: Config, clock: FakeClock) -> AsyncIterator[Running]:
    async with running_bot(db_url, config, clock) as r:
        yield r
