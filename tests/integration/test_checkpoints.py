"""WAL checkpoints run off the loop: commits no longer copy the log into the database file."""

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.checkpoints import AUTOCHECKPOINT_PAGES, Checkpointer
from storage.db import Database
from storage.migrate import migrate

pytestmark = pytest.mark.sqlite_only  # SQLite itself: its files, WAL and lock


def in_database_file(path: Path) -> int | None:
    """The counter as the database file alone holds it (``immutable`` skips the WAL); None
    while even the schema is only in the log."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        row = conn.execute("SELECT value FROM counters WHERE name = 'ticket'").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()
    return int(row[0])


async def bump(db: Database, times: int) -> None:
    for _ in range(times):
        async with db.write() as session:
            await session.execute(text("UPDATE counters SET value = value + 1"))


async def test_commits_leave_the_log_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await migrate(db)
    async with db.read() as session:
        pages = await session.scalar(text("PRAGMA wal_autocheckpoint"))
    assert pages == AUTOCHECKPOINT_PAGES
    await Checkpointer(path).checkpoint()  # the schema
    # SQLite's default would copy the log back at 1,000 pages: 1,500 commits pass that.
    await bump(db, 1500)
    assert in_database_file(path) == 0  # all of it still only in the log

    busy, log_pages, copied = await Checkpointer(path).checkpoint()
    assert (busy, copied) == (0, log_pages) and log_pages > 1000
    assert in_database_file(path) == 1500
    await db.close()


async def test_the_checkpointer_runs_until_cancelled(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await migrate(db)
    await bump(db, 3)
    assert db.sqlite_file == path
    running = asyncio.create_task(Checkpointer(path, every=0.01).run())
    for _ in range(500):
        if in_database_file(path) == 3:
            break
        await asyncio.sleep(0.01)
    assert in_database_file(path) == 3
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert running.cancelled()
    await db.close()


async def test_a_missing_file_is_an_error_not_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    with pytest.raises(sqlite3.OperationalError):
        await Checkpointer(path).checkpoint()
    assert not path.exists()
