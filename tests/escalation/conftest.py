"""The real bot over HTTP against the Slack stand-in, with a fake clock and a known rotation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Config
from tests.escalation.support import timer_config
from tests.fakes import FakeClock
from tests.harness import Running, running_bot


@pytest.fixture
def tconfig() -> Config:
    return timer_config()


@pytest.fixture
async def running(db_url: str, tconfig: Config, clock: FakeClock) -> AsyncIterator[Running]:
    # Pacing is tested on its own; here the lifted rate keeps the stories quick.
    async with running_bot(db_url, tconfig, clock) as run:
        yield run
