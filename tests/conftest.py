"""Shared fixtures: a real SQLite file per test, the demo-like config, a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Config, parse_config
from bot.services.context import Context
from storage.db import Database
from storage.migrate import migrate
from tests.fakes import FakeClock

# A Monday morning in Shanghai, inside working hours.
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

# The English bot: the suite's stories read its English; tests/i18n runs them in Chinese.
CONFIG_DATA = {
    "timezone": "Asia/Shanghai",
    "language": "en",
    "channels": {"support": "C0SUPPORT", "managers": "C0MANAGERS"},
    "roles": {"engineers": ["U0ENG1", "U0ENG2", "U0ENG3"], "managers": ["U0MGR1"]},
    "calendar": {"hours": "08:30-12:00,13:30-17:30", "holidays": "CN"},
    "oncall": {"primary": ["U0ENG1", "U0ENG2"], "secondary": ["U0ENG3"], "shift": "1w"},
    "customers": [
        {"name": "Highway Monitoring Center", "channel": "C0CUST1", "warranty_until": "2027-06-30"},
        {"name": "Old Mill", "channel": "C0CUST2", "warranty_until": "2025-01-31"},
    ],
}


@pytest.fixture
def config() -> Config:
    return parse_config(CONFIG_DATA)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'escalator.db'}"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await migrate(database)
    yield database
    await database.close()


@pytest.fixture
def ctx(db: Database, config: Config, clock: FakeClock) -> Context:
    return Context(db=db, config=config, clock=clock)
