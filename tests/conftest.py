"""Shared fixtures: a real database per test (a SQLite file, or a PostgreSQL database when
``ESCALATOR_TEST_DATABASE`` names a server: see tests/databases.py), the demo-like config,
a fake clock, a started Slack stand-in (``slack``: for tests that start the bot more than once
against one workspace)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Config, parse_config
from bot.sandbox.standin import SlackStandIn
from bot.services.context import Context
from storage.db import Database
from storage.migrate import migrate
from tests.databases import ON_POSTGRES, PostgresServer, server_url, sqlite_url
from tests.fakes import FakeClock
from tests.harness import BOT_TOKEN, CHANNELS, SIGNING_SECRET, USERS

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
async def slack() -> AsyncIterator[SlackStandIn]:
    standin = SlackStandIn(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, users=USERS, channels=CHANNELS
    )
    await standin.start()
    yield standin
    await standin.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: about SQLite itself (files, WAL, its lock); skipped on PostgreSQL"
    )
    config.addinivalue_line("markers", "postgres_only: about PostgreSQL; skipped on SQLite")


def pytest_report_header() -> str:
    url = server_url()
    if url is None:
        return "database: SQLite files (set ESCALATOR_TEST_DATABASE for PostgreSQL)"
    from sqlalchemy import make_url

    parsed = make_url(url)
    return f"database: PostgreSQL at {parsed.host}:{parsed.port} (a database per test)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if ON_POSTGRES and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="about SQLite; this run is on PostgreSQL"))
        if not ON_POSTGRES and item.get_closest_marker("postgres_only"):
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: set ESCALATOR_TEST_DATABASE")
            )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer | None]:
    url = server_url()
    if url is None:
        yield None
        return
    server = PostgresServer(url)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def db_url(tmp_path: Path, pg_server: PostgresServer | None) -> Iterator[str]:
    """A migrated database of the test's own."""
    if pg_server is None:
        yield sqlite_url(tmp_path / "escalator.db")
        return
    name = pg_server.create(template=pg_server.migrated_template())
    try:
        yield pg_server.url_of(name)
    finally:
        pg_server.drop(name)


@pytest.fixture
def empty_db_url(tmp_path: Path, pg_server: PostgresServer | None) -> Iterator[str]:
    """An empty database of the test's own (no schema)."""
    if pg_server is None:
        yield sqlite_url(tmp_path / "empty.db")
        return
    name = pg_server.create()
    try:
        yield pg_server.url_of(name)
    finally:
        pg_server.drop(name)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await migrate(database)
    yield database
    await database.close()


@pytest.fixture
def ctx(db: Database, config: Config, clock: FakeClock) -> Context:
    return Context(db=db, config=config, clock=clock)
