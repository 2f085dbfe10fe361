"""Engine and connections. SQLite runs through aiosqlite (SQLAlchemy's own ``sqlite+aiosqlite``
dialect: every statement in aiosqlite's thread, off the event loop) and gets WAL, a busy
timeout, IMMEDIATE write transactions and connections kept for the process (see Database).
PostgreSQL gets a pool of :data:`PG_POOL_SIZE` kept connections plus
:data:`PG_MAX_OVERFLOW` opened under load, per process (README: size them against the
server's ``max_connections``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, StaticPool

from storage.checkpoints import AUTOCHECKPOINT_PAGES, JOURNAL_SIZE_LIMIT
from storage.writelock import WriteLock

# How long a statement waits for another process's write lock. The wait is in aiosqlite's
# thread: the event loop goes on meanwhile.
BUSY_TIMEOUT_MS = 10_000
# Read connections on SQLite: opened when needed, kept for the process; a read finding all
# of them busy waits for one (opening another costs a thread and its set-up statements).
READERS = 4
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
        if not self.is_sqlite and "sslmode" in engine_url.query:
            # libpq's name, as PostgreSQL's tools and hosting providers write the URL; asyncpg
            # takes the same modes as ``ssl`` (SQLAlchemy would pass ``sslmode`` on, which
            # asyncpg refuses with a TypeError). The wake-up listener's DSN keeps it: asyncpg
            # reads a DSN's sslmode itself (storage/notify.py).
            mode = engine_url.query["sslmode"]
            engine_url = engine_url.difference_update_query(["sslmode"])
            kwargs["connect_args"]["ssl"] = mode if isinstance(mode, str) else mode[-1]
        file = engine_url.database if self.is_sqlite else None
        # The SQLite file, if any (not for ":memory:"): storage.checkpoints works on it.
        self.sqlite_file = Path(file) if file and file != ":memory:" else None
        if self.is_sqlite:
            # SQLAlchemy's pool keeps aiosqlite connections for everything but the kept ones
            # below (migrations, ORM sessions, pings); named here because older 2.0 releases
            # default to a new connection, and a new thread, each time.
            kwargs["poolclass"] = AsyncAdaptedQueuePool if self.sqlite_file else StaticPool
        self.engine: AsyncEngine = create_async_engine(engine_url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, busy_timeout_ms=BUSY_TIMEOUT_MS)
        self._orm = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = WriteLock() if self.is_sqlite else None
        # On SQLite the process keeps its connections (each with its aiosqlite thread): the
        # pool's check-in alone is a ROLLBACK, a hand-over to that thread and back
        # (bench/ticket_commands.py, README).
        self._writer: AsyncConnection | None = None
        self._readers: list[AsyncConnection] = []  # idle ones
        self._reading = asyncio.Semaphore(READERS)

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
        another process writes, ``BEGIN IMMEDIATE`` waits for the lock in aiosqlite's thread
        (up to the busy timeout), never on the loop. Writers of this process take turns on
        the write lock, so one connection serves them all."""
        if self._writer is None:
            conn = await self.engine.connect()
            self._writer = await conn.execution_options(**{_WRITE: True})
        writer = self._writer
        try:
            await writer.begin()
        except BaseException:
            await self._end(writer, commit=False)
            raise
        return writer

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
        async with self._reading:
            conn = self._readers.pop() if self._readers else await self._open_reader()
            failed = True
            try:
                yield conn
                failed = False
            finally:
                await self._put_back(conn, failed=failed)

    async def _open_reader(self) -> AsyncConnection:
        conn = await self.engine.connect()
        return await conn.execution_options(**{_READ: True})

    async def _put_back(self, conn: AsyncConnection, *, failed: bool) -> None:
        """Keep a reader for the next read (one that failed is rolled back first, and
        dropped if that fails too)."""
        if failed:
            await self._end(conn, commit=False)
        if conn.invalidated or conn.closed:
            await self._drop(conn)
        else:
            self._readers.append(conn)

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
