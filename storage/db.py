"""Engine and connections. SQLite gets WAL, a busy timeout, IMMEDIATE write transactions and
connections kept for the process (see Database). PostgreSQL gets a pool of
:data:`PG_POOL_SIZE` kept connections plus :data:`PG_MAX_OVERFLOW` opened under load, per
process (README: size them against the server's ``max_connections``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.dialects import registry
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
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
KEPT_READERS = 4  # idle read connections kept open (more are opened while more read at once)
_WRITE = "escalator_write"
_READ = "escalator_read"
PG_POOL_SIZE = 5  # connections each process keeps open to PostgreSQL
PG_MAX_OVERFLOW = 10  # more, opened while that many are busy and closed after
APPLICATION_NAME = "escalator"  # pg_stat_activity's application_name


class Database:
    """One per process. ``write()`` is one transaction; on SQLite, writers of this process queue
    on a lock instead of spinning in SQLite's busy handler (other processes still wait on it)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs["pool_pre_ping"] = True  # a connection the server dropped is replaced
            kwargs["pool_size"] = PG_POOL_SIZE
            kwargs["max_overflow"] = PG_MAX_OVERFLOW
            kwargs["connect_args"] = {"server_settings": {"application_name": APPLICATION_NAME}}
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
        self._orm = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = WriteLock() if self.is_sqlite else None
        # SQLite runs on the loop's thread: connections are kept for the process, as checking
        # one out of the pool cost more than a statement (bench/commands.py, README).
        self._writer: AsyncConnection | None = None
        self._readers: list[AsyncConnection] = []

    @asynccontextmanager
    async def write(self, *, background: bool = False) -> AsyncIterator[AsyncConnection]:
        """One write transaction. ``background`` work (timers, delivery) lets the writes of
        people waiting for a reply go first (see :mod:`storage.writelock`)."""
        if self._write_lock is None:
            conn = await self.engine.connect()
            try:
                await conn.begin()
                yield conn
                await conn.commit()
            finally:
                # Closed in this task (``async with`` would close in a task of its own and
                # keep the connection out of the pool until that task runs); rolls back
                # what was not committed.
                await conn.close()
            return
        async with self._write_lock.hold(background=background):
            conn = await self._begin_immediate()
            try:
                yield conn
            except BaseException:
                await self._end(conn, commit=False)
                raise
            await self._end(conn, commit=True)

    async def _begin_immediate(self) -> AsyncConnection:
        """The kept write connection, in a transaction that holds SQLite's write lock. While
        another process writes, wait for the lock here, asynchronously, for up to the busy
        timeout. Writers of this process take turns on the write lock, so one connection
        serves them all."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + BUSY_TIMEOUT_MS / 1000
        pause = 0.001
        while True:
            if self._writer is None:
                conn = await self.engine.connect()
                self._writer = await conn.execution_options(**{_WRITE: True})
            try:
                await self._writer.begin()
            except OperationalError as error:
                await self._end(self._writer, commit=False)
                if "locked" not in str(error) or loop.time() > give_up:
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.05)
                continue
            return self._writer

    async def _end(self, conn: AsyncConnection, *, commit: bool) -> None:
        """Commit or roll back a kept connection's transaction; a connection that failed
        (closed, or invalidated by a lost file) is dropped, and the next use opens another."""
        try:
            await (conn.commit() if commit else conn.rollback())
        except BaseException:
            await self._drop(conn)
            raise
        if conn.invalidated or conn.closed:
            await self._drop(conn)

    async def _drop(self, conn: AsyncConnection) -> None:
        if conn is self._writer:
            self._writer = None
        with contextlib.suppress(Exception):
            await conn.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection to read with. On SQLite each statement reads on its own (no BEGIN,
        no ROLLBACK: they cost more than the reads, which are single statements); take
        :meth:`write` for several statements that must see one state."""
        if not self.is_sqlite:
            conn = await self.engine.connect()
            try:
                yield conn
            finally:
                await conn.close()
            return
        if self._readers:
            conn = self._readers.pop()
        else:
            conn = await self.engine.connect()
            await conn.execution_options(**{_READ: True})
        failed = True
        try:
            yield conn
            failed = False
        finally:
            await self._put_back(conn, failed=failed)

    async def _put_back(self, conn: AsyncConnection, *, failed: bool) -> None:
        """Keep a reader for the next read, or close it (one that failed is rolled back
        first, and dropped if that fails too)."""
        if failed:
            await self._end(conn, commit=False)
        if conn.invalidated or conn.closed:
            await self._drop(conn)
        elif len(self._readers) < KEPT_READERS:
            self._readers.append(conn)
        else:
            await conn.close()

    @asynccontextmanager
    async def orm(self) -> AsyncIterator[AsyncSession]:
        """An ORM session (entities, ``session.get``) for tests and one-off tools. The bot's
        own code runs Core statements on :meth:`read` and :meth:`write` connections."""
        session = self._orm()
        try:
            yield session
        finally:
            await session.close()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        kept = [*self._readers, *([self._writer] if self._writer is not None else [])]
        self._readers.clear()
        self._writer = None
        for conn in kept:
            with contextlib.suppress(Exception):
                await conn.close()
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
        options = conn.get_execution_options()
        if options.get(_READ, False):
            return  # kept readers: every statement on its own (Database.read)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE, False) else "BEGIN")
