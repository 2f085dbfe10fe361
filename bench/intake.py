"""Intake speed: signed view submissions of finished report forms at concurrency 32.

Runs `escalator serve` (a real subprocess, SQLite file, the Slack stand-in in this process
taking what the bot delivers) on a database holding 100 and then 100,000 tickets, and, in the
same run, a bare Bolt app that only acks (the floor: the framework's own cost). Prints p50/p99
time to HTTP response, requests/s, and the server's CPU per request beside the floor's.

    .venv/bin/python bench/intake.py [--requests 3000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.serving import (  # noqa: E402
    FLOOR,
    REPORT_ROWS,
    REPORT_ROWS_ROW,
    REPORTER,
    SERVE,
    STACK_FLOOR,
    STACK_FLOOR_ROW,
    Drive,
    Run,
    measure,
    print_table,
    signed,
    standin_env,
    started_standin,
)
from tests.factories import make_ticket  # noqa: E402
from tests.reliability.support import report_body  # noqa: E402


def first_timers(
    config_path: str | None, reported: datetime
) -> list[tuple[str, datetime, str | None]]:
    """The timers the report use case stores for a class B ticket reported at ``reported``
    (key, due, outcome): the stages due at once as sent, and the next one pending. Worked out
    by the bot's own rules, so a step on a seeded ticket finds what it would find in use."""
    from bot.config import load_config
    from bot.domain.tickets import deadlines_of
    from bot.sla.policy import Severity
    from bot.sla.stages import catch_up, next_stage, ticket_stages

    config = load_config(config_path)
    ticket = make_ticket(
        summary="",
        details="",
        severity=Severity.B,
        origin_channel="C0SUPPORT",
        reported_at=reported,
    )
    stages = ticket_stages(
        ticket=ticket,
        deadlines=deadlines_of(ticket, policy=config.policy, calendar=config.calendar),
        terms=config.policy.terms(Severity.B, in_warranty=True),
        calendar=config.calendar,
        now=reported,
    )
    send, skip = catch_up([s for s in stages if s.due <= reported])
    return (
        [(s.key, s.due, "sent") for s in send]
        + [(s.key, s.due, "superseded") for s in skip]
        + [(s.key, s.due, None) for s in next_stage(stages, after=reported)]
    )


def seed(path: str, count: int, config_path: str | None = None) -> None:
    """Create the schema (escalator migrate) and insert ``count`` open class B tickets as the
    report use case stores them: each with its first event and its timers. They are reported
    now, so nothing falls due during the run: the benches measure requests, not the timer
    engine catching up on 100,000 overdue tickets."""
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{path}"}
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    reported = datetime.now(UTC).replace(microsecond=0)

    def text(at: datetime) -> str:  # as the tables store UTC times on SQLite
        return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    now = text(reported)
    timers = [
        (key, text(due), outcome) for key, due, outcome in first_timers(config_path, reported)
    ]
    db = sqlite3.connect(path)
    fixed = ("U0REP", "C0SUPPORT", "C0SUPPORT", None, 1, now, 1, now, "[]", "", "", "", "", "{}")
    rows = [
        (n, f"bench:{n}", "B", "open", f"Problem {n}", "details " * 10, "billing", *fixed)
        for n in range(1, count + 1)
    ]
    db.executemany(
        "INSERT INTO tickets (number, intake_key, severity, state, summary, details, system,"
        " reporter_id, origin_channel, post_channel, customer, in_warranty, reported_at,"
        " version, updated_at, pauses, cause, plan, resolution, rating_comment, extra)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    db.executemany(
        "INSERT INTO ticket_events (ticket_number, at, actor_id, kind, before, after)"
        " VALUES (?,?,?,?,?,?)",
        [
            (n, now, "U0REP", "reported", "{}", json.dumps({"severity": "B"}))
            for n in range(1, count + 1)
        ],
    )
    db.executemany(
        "INSERT INTO timers (ticket_number, key, due_at, version, armed_at, fired_at, outcome)"
        " VALUES (?,?,?,1,?,?,?)",
        [
            (n, key, due, now, None if outcome is None else now, outcome)
            for n in range(1, count + 1)
            for key, due, outcome in timers
        ],
    )
    db.execute("UPDATE counters SET value = ? WHERE name = 'ticket'", (count,))
    db.commit()
    db.close()


def submission(n: int) -> str:
    """A finished class A report form, as the tests send it (tests.reliability.support)."""
    return report_body(
        f"VBENCH{n:07d}",
        f"Bench problem {n}",
        details="Orders stop at checkout " * 8,
        system="billing",
        channel="C0SUPPORT",
        team_domain="bench",
    )


async def load(
    urls: list[str], total: int, concurrency: int, offset: int
) -> tuple[list[float], float, int]:
    """``total`` submissions from ``concurrency`` workers, worker i on ``urls[i % len]``."""
    latencies: list[float] = []
    failures = 0
    counter = iter(range(offset, offset + total))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker(url: str) -> None:
            nonlocal failures
            for n in counter:
                body = submission(n)
                started = time.perf_counter()
                async with http.post(url, data=body.encode(), headers=signed(body)) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker(urls[i % len(urls)]) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed, failures


def stored_tickets(path: str) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT count(*) FROM tickets").fetchone()[0])
    finally:
        db.close()


def driver(concurrency: int) -> Drive:
    """Report forms against one server, the warm-up's numbered apart from the run's."""

    async def drive(url: str, count: int, warm_up: bool) -> tuple[list[float], float, int]:
        return await load([url], count, concurrency, offset=10_000_000 if warm_up else 0)

    return drive


async def bench(requests: int, concurrency: int) -> None:
    slack = await started_standin(REPORTER)
    drive = driver(concurrency)
    rows: list[tuple[str, Run]] = []
    floors: list[Run] = []
    stored: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        floors.append(await measure(FLOOR, standin_env(slack, f"{tmp}/floor.db"), drive, requests))
        for count in (100, 100_000):
            path = f"{tmp}/intake-{count}.db"
            await asyncio.to_thread(seed, path, count)
            run = await measure(SERVE, standin_env(slack, path), drive, requests)
            rows.append((f"{count:,}", run))
            stored.append(f"{stored_tickets(path) - count:,} of {requests + 200:,}")
        stack = await measure(
            STACK_FLOOR, standin_env(slack, f"{tmp}/intake-100.db"), drive, requests
        )
        report_rows = await measure(
            REPORT_ROWS, standin_env(slack, f"{tmp}/intake-100.db"), drive, requests
        )
        floors.append(await measure(FLOOR, standin_env(slack, f"{tmp}/floor.db"), drive, requests))
    await slack.stop()
    floor_rows = [(STACK_FLOOR_ROW, stack), (REPORT_ROWS_ROW, report_rows)]
    print_table("escalator serve, tickets before", [*rows, *floor_rows], floors)
    print(f"\nreports stored (warm-up included): {', '.join(stored)}")
    small, large = rows[0][1], rows[1][1]
    print(f"rate with 100,000 / rate with 100: {large.rate / small.rate:.2f}")
    print(f"concurrency {concurrency}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print("steal: the share of the machine's time the hypervisor gave to other guests")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(bench(args.requests, args.concurrency))


if __name__ == "__main__":
    main()
