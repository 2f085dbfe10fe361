"""Engine and sessions. SQLite gets WAL, a busy timeout and IMMEDIATE write transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.dialects import registry
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from storage.checkpoints import AUTOCHECKPOINT_PAGES, JOURNAL_SIZE_LIMIT
from storage.inline_sqlite import INLINE_BUSY_MS
from storage.writelock import WriteLock

INLINE_DRIVER = "escalator_inline"
registry.register(f"sqlite.{INLINE_DRIVER}", "storage.inline_sqlite", "InlineSQLiteDialect")

BUSY_TIMEOUT_MS = 10_000
_WRITE = "escalator_write"


class Database:
    """One per process. ``write()`` is one transaction; on SQLite, writers of this process queue
    on a lock instead of spinning in SQLite's busy handler (other processes still wait on it)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs["pool_pre_ping"] = True
        engine_url = make_url(url)
        file = engine_url.database if self.is_sqlite else None
        # The SQLite file, if any (not for ":memory:"): storage.checkpoints works on it.
        self.sqlite_file = Path(file) if file and file != ":memory:" else None
        self.inline = engine_url.drivername == "sqlite+aiosqlite"
        if self.inline:  # statements run on the loop's thread (storage/inline_sqlite.py)
            engine_url = engine_url.set(drivername=f"sqlite+{INLINE_DRIVER}")
        self.engine: AsyncEngine = create_async_engine(engine_url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(
                self.engine, busy_timeout_ms=INLINE_BUSY_MS if self.inline else BUSY_TIMEOUT_MS
            )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = WriteLock() if self.is_sqlite else None

    @asynccontextmanager
    async def write(self, *, background: bool = False) -> AsyncIterator[AsyncSession]:
        """One write transaction. ``background`` work (timers, delivery) lets the writes of
        people waiting for a reply go first (see :mod:`storage.writelock`)."""
        if self._write_lock is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._write_lock.hold(background=background):
            stack, session = await self._begin_immediate()
            async with stack:
                yield session

    async def _begin_immediate(self) -> tuple[AsyncExitStack, AsyncSession]:
        """A session whose transaction holds SQLite's write lock. While another process
        writes, wait for the lock here, asynchronously, for up to the busy timeout."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + BUSY_TIMEOUT_MS / 1000
        pause = 0.001
        while True:
            stack = AsyncExitStack()
            session = self.sessions()
            stack.push_async_callback(session.close)
            await stack.enter_async_context(session.begin())
            try:
                await session.connection(execution_options={_WRITE: True})
            except OperationalError as error:
                await stack.__aexit__(type(error), error, error.__traceback__)
                if "locked" not in str(error) or loop.time() > give_up:
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.05)
                continue
            return stack, session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        session = self.sessions()
        try:
            yield session
        finally:
            # Closed in this task: ``async with session`` closes in a task of its own, which
            # keeps the connection out of the pool until that task runs.
            await session.close()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Checkpoints run off the loop (storage.checkpoints); a commit copies the log back
        # only if no checkpointer keeps up.
        cursor.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction takes the write lock at BEGIN (IMMEDIATE), so writers queue on the
        # busy timeout instead of failing with "database is locked" when a reader upgrades.
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
