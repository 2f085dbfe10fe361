"""Timer engine at scale: 100 000 open tickets with their pending stages in an SQLite file.

Prints one table: from due to notice enqueued (p50/p99/max), CPU while idle between stages,
CPU while firing, resident memory, start-up time; for the Escalator engine, APScheduler 3
(AsyncIOScheduler + SQLAlchemyJobStore on SQLite), and a 5-minute polling scan like
Zammad's (the same engine pass, run every 5 minutes instead of at the due instant).

Each contender runs in its own process on its own SQLite file, seeded just before it starts
from the same generator (same seed) relative to its start, so the same stages fall due at
the same offsets: real wall-clock time, no compression. Tickets are reported uniformly over
the last three days (10 % A, 20 % B, 40 % C, 30 % D), none met, so most A and B tickets are
breached and repeat their manager pages: a steady stream of stages falls due.

    .venv/bin/python bench/timers.py [--tickets 100000] [--window 45] [--idle 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.domain.tickets import Ticket, TicketState  # noqa: E402
from bot.sla.deadlines import compute_deadlines  # noqa: E402
from bot.sla.policy import Severity  # noqa: E402
from bot.sla.stages import ticket_stages  # noqa: E402

FMT = "%Y-%m-%d %H:%M:%S.%f"
MIX = [(Severity.A, 10), (Severity.B, 20), (Severity.C, 40), (Severity.D, 30)]


def generate(n: int, t0: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Ticket rows and timer rows (fired before ``t0`` or pending), from a fixed seed."""
    rng = random.Random(20261123)
    config = load_config(None)
    severities = [s for s, w in MIX for _ in range(w)]
    tickets, timers = [], []
    for number in range(1, n + 1):
        severity = rng.choice(severities)
        reported = (t0 - timedelta(seconds=rng.randrange(3 * 86400))).replace(microsecond=0)
        ticket = Ticket(
            number, "bench", "bench", "", severity, TicketState.OPEN, "U0REP", None,
            "C0SUPPORT", None, True, None, reported, None, None, None, None, None, 1,
        )  # fmt: skip
        deadlines = compute_deadlines(
            policy=config.policy,
            calendar=config.calendar,
            severity=severity,
            reported_at=reported,
            in_warranty=True,
        )
        terms = config.policy.terms(severity, in_warranty=True)
        r = reported.astimezone(UTC).strftime(FMT)
        tickets.append((number, severity.value, "open", "bench", "bench", "", "U0REP",
                        "C0SUPPORT", 1, r, 1, r, "[]", "", "", "", "", "{}"))  # fmt: skip
        stages = ticket_stages(
            ticket=ticket, deadlines=deadlines, terms=terms, calendar=config.calendar, now=t0
        )
        for stage in stages:
            due = stage.due.astimezone(UTC).strftime(FMT)
            done = stage.due <= t0
            timers.append((number, stage.key, due, 1, r, due if done else None,
                           "sent" if done else None))  # fmt: skip
    return tickets, timers


def seed_escalator(path: Path, n: int, t0: datetime) -> int:
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{path}"},
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    tickets, timers = generate(n, t0)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "insert into tickets (number, severity, state, summary, details, system, reporter_id,"
            " post_channel, in_warranty, reported_at, version, updated_at, pauses, cause, plan,"
            " resolution, rating_comment, extra) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            tickets,
        )
        conn.executemany(
            "insert into timers (ticket_number, key, due_at, version, armed_at, fired_at, outcome)"
            " values (?,?,?,?,?,?,?)",
            timers,
        )
        conn.execute("update counters set value = ? where name = 'ticket'", (n,))
    return sum(1 for t in timers if t[5] is None)


def seed_apscheduler(path: Path, n: int, t0: datetime) -> int:
    from apscheduler.job import Job
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.date import DateTrigger

    scheduler = AsyncIOScheduler(timezone=UTC)
    store = SQLAlchemyJobStore(url=f"sqlite:///{path}")
    store.start(scheduler, "default")
    _, timers = generate(n, t0)
    rows = []
    for number, key, due_text, *_rest in timers:
        if _rest[2] is not None:
            continue  # fired before t0
        due = datetime.strptime(due_text, FMT).replace(tzinfo=UTC)
        job = Job(
            scheduler,
            id=f"{number}:{key}",
            func="__main__:aps_fire",
            trigger=DateTrigger(run_date=due, timezone=UTC),
            executor="default",
            args=(due.timestamp(),),
            kwargs={},
            name=key,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
            next_run_time=due,
        )
        rows.append((job.id, due.timestamp(), pickle.dumps(job.__getstate__(), 5)))
    store.shutdown()
    with sqlite3.connect(path) as conn:
        conn.executemany("insert into apscheduler_jobs values (?,?,?)", rows)
    return len(rows)


# ---- the contenders (child processes) --------------------------------------------------


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def child_escalator(
    db: Path, spawn: float, window: float, idle: float, poll: bool
) -> dict[str, Any]:
    from bot.app import build
    from bot.clock import SystemClock
    from bot.settings import load_settings

    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": "bench",
            "SLACK_API_URL": "http://127.0.0.1:9/api/",
            "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        }
    )
    escalator = await build(settings, load_config(None), SystemClock())
    engine = escalator.engine
    assert engine is not None
    while await engine.fire_due():  # what fell due while seeding and starting
        pass
    started = time.time() - spawn
    lags: list[float] = []
    engine.on_fired = lags.extend

    async def poller() -> None:
        while True:
            while await engine.fire_due():
                pass
            await asyncio.sleep(300)

    task = asyncio.create_task(poller() if poll else engine.run())
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(window)
    firing_cpu = (time.process_time() - cpu) / (time.monotonic() - wall)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    with sqlite3.connect(db) as conn:  # nothing due for a day: the engine is idle
        conn.execute(
            "update timers set due_at = strftime('%Y-%m-%d %H:%M:%f', due_at, '+1 day')"
            " where fired_at is null"
        )
    task = asyncio.create_task(poller() if poll else engine.run())
    await asyncio.sleep(1)
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(idle)
    idle_cpu = (time.process_time() - cpu) / (time.monotonic() - wall)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    result = {"lags": lags, "start": started, "idle_cpu": idle_cpu, "firing_cpu": firing_cpu}
    result["rss"] = rss_mb()
    await escalator.ctx.db.close()
    return result


APS_LAGS: list[float] = []
APS_FROM = [0.0]


async def aps_fire(due: float) -> None:
    if due >= APS_FROM[0]:
        APS_LAGS.append(time.time() - due)


async def child_apscheduler(db: Path, spawn: float, window: float, idle: float) -> dict[str, Any]:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    def scheduler() -> AsyncIOScheduler:
        return AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{db}")},
            job_defaults={"misfire_grace_time": None, "coalesce": True},
            timezone=UTC,
        )

    running = scheduler()
    running.start()
    await asyncio.sleep(0)
    started = time.time() - spawn
    APS_FROM[0] = time.time()
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(window)
    firing_cpu = (time.process_time() - cpu) / (time.monotonic() - wall)
    running.shutdown(wait=False)
    with sqlite3.connect(db) as conn:
        conn.execute("update apscheduler_jobs set next_run_time = next_run_time + 86400")
    running = scheduler()
    running.start()
    await asyncio.sleep(1)
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(idle)
    idle_cpu = (time.process_time() - cpu) / (time.monotonic() - wall)
    running.shutdown(wait=False)
    return {
        "lags": APS_LAGS,
        "start": started,
        "idle_cpu": idle_cpu,
        "firing_cpu": firing_cpu,
        "rss": rss_mb(),
    }


# ---- the parent ------------------------------------------------------------------------


def run(kind: str, n: int, window: float, idle: float, tmp: Path) -> dict[str, Any]:
    db = tmp / f"{kind}.db"
    t0 = datetime.now(UTC) + timedelta(seconds=5)
    began = time.monotonic()
    pending = seed_apscheduler(db, n, t0) if kind == "apscheduler" else seed_escalator(db, n, t0)
    seeded = time.monotonic() - began
    spawn = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(db), str(spawn), str(window), str(idle)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result |= {"pending": pending, "seed": seeded}
    return result


def row(name: str, r: dict[str, Any], base: dict[str, Any] | None) -> str:
    lags = sorted(r["lags"]) or [float("nan")]
    p50 = statistics.median(lags)
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    cells = [
        f"{p50:.3f}",
        f"{p99:.3f}",
        f"{lags[-1]:.3f}",
        f"{len(r['lags'])}",
        f"{100 * r['idle_cpu']:.2f}",
        f"{100 * r['firing_cpu']:.1f}",
        f"{r['rss']:.0f}",
        f"{r['start']:.2f}",
    ]
    if base is not None:
        bl = sorted(base["lags"])
        bp99 = bl[min(len(bl) - 1, int(len(bl) * 0.99))]
        cells.append(f"p99 ×{p99 / bp99:.2f}, RSS ×{r['rss'] / base['rss']:.2f}")
    else:
        cells.append("1")
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=45.0)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--skip-poll", action="store_true")
    parser.add_argument("--child", nargs=5)
    args = parser.parse_args()
    if args.child:
        kind, db, spawn, window, idle = args.child
        if kind == "apscheduler":
            coro = child_apscheduler(Path(db), float(spawn), float(window), float(idle))
        else:
            poll = kind == "poll"
            coro = child_escalator(Path(db), float(spawn), float(window), float(idle), poll)
        print(json.dumps(asyncio.run(coro)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        results = {"escalator": run("escalator", args.tickets, args.window, args.idle, Path(tmp))}
        results["apscheduler"] = run("apscheduler", args.tickets, args.window, args.idle, Path(tmp))
        if not args.skip_poll:
            results["poll"] = run("poll", args.tickets, 305.0, args.idle, Path(tmp))
    base = results["escalator"]
    print(
        f"{args.tickets} tickets, {base['pending']} pending stages "
        f"(seeded in {base['seed']:.0f} s); firing window {args.window:.0f} s "
        f"(polling: 305 s, one scan at the start and one at 300 s); idle {args.idle:.0f} s\n"
    )
    print(
        "| engine | due→enqueued p50 s | p99 s | max s | stages | idle CPU % | "
        "firing CPU % | RSS MB | start s | vs Escalator |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(row("Escalator (sleep until due)", base, None))
    print(row("APScheduler 3 (SQLAlchemyJobStore)", results["apscheduler"], base))
    if "poll" in results:
        print(row("5-minute polling scan", results["poll"], base))


if __name__ == "__main__":
    main()
