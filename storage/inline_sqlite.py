"""SQLite for SQLAlchemy's asyncio engine, run on the event loop's own thread.

aiosqlite gives each connection a thread of its own and hands it every call: about four
hand-overs per statement (cursor, execute, fetch, close), each waking another thread and
then the event loop. Measured on the 2-core machine (``bench/sqlite_driver.py``), a write
transaction of one small statement costs about 1.7 ms of CPU that way, and about 0.1 ms
run inline: the hand-overs cost more than SQLite's work, which here is microseconds.

So a ``sqlite+aiosqlite`` URL (the form SPEC gives ``DATABASE_URL``) runs its statements
with the standard library's ``sqlite3`` right on the event loop thread, through this
dialect. It is the pysqlite dialect marked async; each statement takes one await that
completes at once, as SQLAlchemy's asyncio layer expects of a driver.

The loop is never held by another process's lock: connections have a short busy timeout
(:data:`INLINE_BUSY_MS`), and :class:`storage.db.Database` retries ``BEGIN IMMEDIATE``
asynchronously while another process writes.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool, StaticPool
from sqlalchemy.util.concurrency import await_

INLINE_BUSY_MS = 5  # the longest a statement may hold the loop waiting for a lock


async def _at_once() -> None:
    return None


class InlineCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> InlineCursor:
        await_(_at_once())  # the await SQLAlchemy's asyncio layer looks for
        super().execute(sql, parameters)
        return self

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> InlineCursor:
        await_(_at_once())
        super().executemany(sql, seq_of_parameters)
        return self

    async def _async_soft_close(self) -> None:
        """Called by SQLAlchemy's asyncio layer on async drivers' cursors: a sqlite3 cursor
        keeps its rows where they are, and needs nothing here."""


class InlineConnection(sqlite3.Connection):
    def cursor(self, factory: Any = InlineCursor) -> Any:
        return super().cursor(factory)


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """``sqlite+aiosqlite`` URLs, run inline (see the module's docstring)."""

    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[Pool]:
        # An asyncio-aware pool: a use waiting for a connection awaits, never blocks.
        return AsyncAdaptedQueuePool if cls._is_url_file_db(url) else StaticPool

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        cparams["factory"] = InlineConnection
        cparams["check_same_thread"] = False  # the loop's thread; the pool may close elsewhere
        return super().connect(*cargs, **cparams)
