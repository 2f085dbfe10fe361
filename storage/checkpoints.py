"""WAL checkpoints off the event loop.

In WAL mode SQLite appends every commit to the ``-wal`` file and, by default, the commit that
takes the log past 1,000 pages copies the log back into the database file and syncs it: a
checkpoint of tens of milliseconds, run by whichever commit happens to cross the line. The
commit runs in aiosqlite's thread, so the loop goes on; but the process has one write
connection and writers take turns on it (:mod:`storage.writelock`), so every write waiting
behind that commit would wait as long.

So the serving process's connections checkpoint only as a safety valve
(:data:`AUTOCHECKPOINT_PAGES`, for a process that runs no :class:`Checkpointer`), and a
:class:`Checkpointer` runs a ``PASSIVE`` checkpoint every second in a worker thread, on a
connection of its own. ``PASSIVE`` never waits for readers or writers: what it cannot copy
now it copies on a later pass, and SQLite releases the thread's hold on Python while it works.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

AUTOCHECKPOINT_PAGES = 20_000  # about 80 MB of log: only when no Checkpointer keeps up
CHECKPOINT_EVERY = 1.0  # seconds
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes: a longer log file is cut back once copied


class Checkpointer:
    """Copies the WAL into the database file every ``every`` seconds, off the loop."""

    def __init__(self, path: Path, *, every: float = CHECKPOINT_EVERY) -> None:
        self.path = path
        self.every = every

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.checkpoint()
            except sqlite3.Error as error:  # a full disk, say: the next pass tries again
                log.warning("WAL checkpoint failed: %s", error)

    async def checkpoint(self) -> tuple[int, int, int]:
        """One ``PASSIVE`` checkpoint in a worker thread: (busy, log pages, pages copied).
        The thread opens and closes its own connection, so a cancelled pass leaves nothing
        half-used behind."""
        return await asyncio.to_thread(_checkpoint, self.path)


def _checkpoint(path: Path) -> tuple[int, int, int]:
    # mode=rw: a database file that is gone is an error here, not a new empty file.
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)
    try:
        busy, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        conn.close()
    return int(busy), int(pages), int(copied)
