"""SQLite through aiosqlite: statements run in aiosqlite's thread, never on the event loop's;
writes take the write lock at BEGIN; connections are kept and always see the latest commit."""

import asyncio
import gc
import sqlite3
import threading
import warnings
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text

from storage.db import BUSY_TIMEOUT_MS, Database
from storage.migrate import migrate

pytestmark = pytest.mark.sqlite_only  # SQLite itself: its files, WAL and lock


async def test_statements_run_in_aiosqlites_thread_not_the_loops(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'thread.db'}")
    await migrate(db)
    loop_thread = threading.get_ident()
    for use in (db.read, db.write):
        async with use() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert isinstance(driver, aiosqlite.Connection)
            await driver.create_function("thread_id", 0, threading.get_ident)
            ran_in = await conn.scalar(text("SELECT thread_id()"))
        assert ran_in != loop_thread
    await db.close()


async def test_a_write_holds_the_write_lock_from_begin(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: another writer is refused at once while our transaction is open,
    even before it has written anything (a reader that upgraded later could deadlock)."""
    path = tmp_path / "immediate.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await migrate(db)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    async with db.write() as conn:
        await conn.scalar(text("SELECT value FROM counters"))  # a read only, so far
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # free again after the commit
    other.execute("ROLLBACK")
    other.close()
    await db.close()


async def test_connections_are_set_up_for_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    await migrate(db)
    for use in (db.read, db.write):
        async with use() as conn:
            assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await conn.scalar(text("PRAGMA busy_timeout")) == BUSY_TIMEOUT_MS
            assert await conn.scalar(text("PRAGMA foreign_keys")) == 1
    await db.close()


async def test_reads_reuse_kept_connections(tmp_path: Path) -> None:
    """A read after a read takes the same kept connection (no new aiosqlite thread)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kept.db'}")
    await migrate(db)
    async with db.read() as conn:
        first = (await conn.get_raw_connection()).driver_connection
    async with db.read() as conn:
        again = (await conn.get_raw_connection()).driver_connection
    assert again is first
    await db.close()


async def test_a_write_waits_for_another_writer_without_holding_the_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await migrate(db)
    other = sqlite3.connect(path, isolation_level=None)  # another process, as far as SQLite knows
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    async def write() -> None:
        async with db.write() as session:
            await session.execute(text("UPDATE counters SET value = value + 1"))

    running = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()  # it waits for the lock...
    assert ticks >= 20  # ...and the loop goes on meanwhile (a blocking wait would stop it)
    other.execute("COMMIT")
    await asyncio.wait_for(writing, 5)
    running.cancel()
    assert other.execute("SELECT value FROM counters").fetchone()[0] == 1
    other.close()
    await db.close()


async def test_kept_connections_see_every_commit(tmp_path: Path) -> None:
    """The process keeps its SQLite connections open; a kept reader must never stay on an
    old snapshot, whoever commits (this process or another)."""
    path = tmp_path / "kept.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await migrate(db)
    other = sqlite3.connect(path, isolation_level=None)

    async def counter() -> int:
        async with db.read() as conn:
            return int(await conn.scalar(text("SELECT value FROM counters")) or 0)

    assert await counter() == 0
    async with db.write() as conn:
        await conn.execute(text("UPDATE counters SET value = 5"))
    assert await counter() == 5
    other.execute("UPDATE counters SET value = 7")
    assert await counter() == 7
    with pytest.raises(RuntimeError):  # a failed write leaves nothing behind
        async with db.write() as conn:
            await conn.execute(text("UPDATE counters SET value = 9"))
            raise RuntimeError("the use case failed")
    assert await counter() == 7
    assert other.execute("SELECT value FROM counters").fetchone()[0] == 7
    other.execute("UPDATE counters SET value = 8")  # the write lock is free again
    assert await counter() == 8
    other.close()
    await db.close()


async def test_a_failed_read_gives_its_connection_back(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    await migrate(db)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(30):
            with pytest.raises(LookupError):
                async with db.read() as conn:
                    await conn.execute(text("SELECT value FROM counters"))
                    raise LookupError("the use case failed after reading")
        gc.collect()
    # A connection left behind is found by the garbage collector, which warns of it.
    assert not [w for w in caught if "non-checked-in" in str(w.message)]
    assert db.engine.pool.checkedout() <= 1  # type: ignore[attr-defined]
    async with db.read() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM counters WHERE name = 'ticket'")) == 1
    await db.close()
