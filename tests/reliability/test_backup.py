"""``escalator backup PATH`` while a real ``serve`` takes reports and commands: each copy passes
SQLite's integrity check, opens with the bot's schema, and holds the same tickets as the live
database did at the moment of the copy (a consistent snapshot, no torn transaction)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from bot.sandbox.standin import SlackStandIn
from tests.databases import sqlite_url
from tests.reliability.support import (
    LIMIT,
    LONG,
    ROOT,
    Load,
    ServeProcess,
    query,
    until,
)

COPIES = 10 if LONG else 2


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=LIMIT,
        check=False,
    )


@pytest.mark.sqlite_only  # `escalator backup` copies SQLite files; PostgreSQL has pg_dump
async def test_backups_taken_under_load_are_whole_and_consistent(
    tmp_path: Path, slack: SlackStandIn
) -> None:
    db = tmp_path / "escalator.db"
    bot = ServeProcess(tmp_path, slack, db=sqlite_url(db))
    slack.bot_events_url = bot.events_url
    load = Load([bot.events_url], slack.base_url, prefix="VBAK")
    copies: list[tuple[Path, int]] = []
    task: asyncio.Task[None] | None = None
    try:
        await bot.start()
        task = asyncio.create_task(load.run(lanes=3))
        for n in range(COPIES):
            await until(lambda n=n: len(load.numbers) >= 10 * (n + 1), what="some load")
            answered_before = len(load.numbers)
            copy = tmp_path / f"copy-{n}.db"
            done = await asyncio.to_thread(cli, bot.env, "backup", str(copy))
            assert done.returncode == 0, done.stderr
            assert str(copy) in done.stdout  # "backup written to …", in the bot's language
            copies.append((copy, answered_before))
        load.stopped.set()
        await task
    finally:
        load.stopped.set()
        if task is not None and not task.done():
            task.cancel()
        bot.stop()

    live = {row[0]: row[1:] for row in query(db, "select number, intake_key, summary from tickets")}
    for index, (copy, answered_before) in enumerate(copies):
        assert query(copy, "pragma integrity_check") == [("ok",)]
        tickets = {
            row[0]: row[1:]
            for row in query(copy, "select number, intake_key, summary from tickets")
        }
        # at least what was answered before the copy began; numbered 1..N; as in the live file
        assert len(tickets) >= answered_before
        assert sorted(tickets) == list(range(1, len(tickets) + 1))
        assert all(live[number] == row for number, row in tickets.items())
        # no torn transaction: each ticket has its first event, the counter matches
        reported = query(copy, "select count(*) from ticket_events where kind = 'reported'")
        assert reported == [(len(tickets),)]
        assert query(copy, "select value from counters where name = 'ticket'") == [(len(tickets),)]
        if index < len(copies) - 1 and not LONG:
            continue  # starting the CLI costs seconds: the short run opens the last copy only
        # the bot opens the copy: its schema is current (migrate has nothing to do)
        env = {**bot.env, "DATABASE_URL": f"sqlite+aiosqlite:///{copy}"}
        migrated = await asyncio.to_thread(cli, env, "migrate")
        assert migrated.returncode == 0, migrated.stderr
    print(
        f"backup: {len(copies)} copies under load, tickets per copy "
        f"{[len(query(c, 'select number from tickets')) for c, _ in copies]}, live {len(live)}; "
        f"all passed integrity_check"
    )
    assert len(live) > len(query(copies[0][0], "select number from tickets"))  # load went on
