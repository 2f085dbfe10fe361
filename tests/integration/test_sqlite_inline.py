"""SQLite on the event loop's thread: another process's write lock never holds the loop."""

import asyncio
import gc
import sqlite3
import warnings
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.migrate import migrate

pytestmark = pytest.mark.sqlite_only  # SQLite itself: its files, WAL and lock


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
        assert await conn.scalar(text("SELECT count(*) FROM counters")) == 1
    await db.close()
