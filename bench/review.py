"""The month's review over 100,000 tickets (SPEC §6): figures in SQL in at most 2 s.

Fills one month with ``--tickets`` tickets (classes 10/20/40/30 %, 30 customers, most
acknowledged, about 60 % resolved, a fifth rated, deadlines stored as the steps store
them), plus service-plan tasks and survey answers, then times ``month_review`` (the figures
the message shows), the CSV and the chart, each ``--runs`` times. Beside them, the floor: one
``SELECT count(*)`` over the same month (the least any review could read).

SQLite in a temporary file by default; PostgreSQL when ``ESCALATOR_TEST_DATABASE`` is a
``postgresql+asyncpg://`` URL of a database it may fill (its tables are dropped first).

    .venv/bin/python bench/review.py [--tickets 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import parse_config
from bot.domain.review import Month
from bot.domain.service_plan import PlanTask, TaskState
from bot.services.context import Context
from bot.services.review import bounds, month_review
from bot.services.review_files import chart_png, tickets_csv
from bot.slack.review_blocks import review_blocks
from storage.db import Database
from storage.migrate import migrate
from storage.tables import PlanTaskRow, SurveyAnswerRow, TicketRow, table_of
from tests.conftest import CONFIG_DATA
from tests.fakes import FakeClock

MONTH = Month(2026, 10)
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # the review's own moment: the next month
CLASSES = (("A", 0.1), ("B", 0.2), ("C", 0.4), ("D", 0.3))
TARGETS = {"A": (900, 3600, 7200), "B": (1800, 14400, 43200), "C": (14400, 28800, 54000)}
CUSTOMERS = [f"Customer {n:02d}" for n in range(30)]


def _ticket(number: int, start: datetime, rng: random.Random) -> dict[str, Any]:
    severity = rng.choices([c for c, _ in CLASSES], [w for _, w in CLASSES])[0]
    reported = start + timedelta(seconds=rng.randrange(30 * 86_400))
    respond, diagnose, plan = TARGETS.get(severity, TARGETS["C"])

    def met(target: int, chance: float) -> datetime | None:
        if rng.random() > chance:
            return None
        return reported + timedelta(seconds=int(rng.expovariate(1 / (target * 0.7))))

    acknowledged, cause, planned = met(respond, 0.95), met(diagnose, 0.8), met(plan, 0.7)
    resolved = met(plan * 2, 0.6) if planned else None
    state = "closed" if resolved and rng.random() < 0.8 else "acknowledged"
    return {
        "number": number,
        "severity": severity,
        "state": state,
        "summary": f"problem {number}",
        "details": "details",
        "system": "",
        "reporter_id": "U0REP",
        "origin_channel": None,
        "post_channel": "C0SUPPORT",
        "customer": rng.choice([*CUSTOMERS, None]),
        "in_warranty": True,
        "reported_at": reported,
        "acknowledged_at": acknowledged,
        "first_acknowledged_at": acknowledged,  # what the review's respond times read
        "cause_at": cause,
        "plan_at": planned,
        "resolved_at": resolved,
        "closed_at": resolved if state == "closed" else None,
        "rating": rng.randint(1, 5) if resolved and rng.random() < 0.2 else None,
        "respond_due": reported + timedelta(seconds=respond),
        "diagnose_due": reported + timedelta(seconds=diagnose),
        "plan_due": reported + timedelta(seconds=diagnose + plan),
        "resolve_due": None,
        "deadlines_version": 1,
        "version": 1,
        "updated_at": reported,
        "pauses": [],
        "extra": {},
        "cause": "",
        "plan": "",
        "resolution": "",
        "rating_comment": "",
    }


async def fill(ctx: Context, tickets: int) -> None:
    rng = random.Random(19)
    start, _ = bounds(ctx, MONTH)
    table = table_of(TicketRow)
    async with ctx.db.write() as conn:
        for first in range(1, tickets + 1, 5_000):
            rows = [_ticket(n, start, rng) for n in range(first, min(first + 5_000, tickets + 1))]
            await conn.execute(insert(table), rows)
        task_rows = []
        for customer in CUSTOMERS:
            for task in PlanTask:
                due = start + timedelta(days=rng.randrange(28), hours=1)
                state = rng.choice([TaskState.DONE, TaskState.SKIPPED, TaskState.OPEN])
                task_rows.append(
                    {
                        "customer": customer,
                        "task": task.value,
                        "seq": 1,
                        "start_on": (due - timedelta(days=14)).date(),
                        "nominal": due.date(),
                        "due_at": due,
                        "overdue_at": due + timedelta(days=14),
                        "state": state.value,
                        "armed_at": due,
                        "sent_at": due,
                        "reason": "",
                    }
                )
        await conn.execute(insert(table_of(PlanTaskRow)), task_rows)
        ids = (await conn.execute(select(table_of(PlanTaskRow).c.id))).scalars().all()
        answers = [
            {
                "task_id": i,
                "user_id": "U0CUST",
                "rating": rng.randint(1, 5),
                "comment": "",
                "at": start + timedelta(days=20),
            }
            for i in ids[::5]
        ]
        await conn.execute(insert(table_of(SurveyAnswerRow)), answers)


async def timed(work: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of ``runs`` runs, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = await work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("ESCALATOR_TEST_DATABASE", "")
    folder = tempfile.TemporaryDirectory()
    if not url.startswith("postgresql"):
        url = f"sqlite+aiosqlite:///{Path(folder.name) / 'review.db'}"
    db = Database(url)
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await migrate(db)
    ctx = Context(db=db, config=parse_config(CONFIG_DATA), clock=FakeClock(NOW))
    started = time.perf_counter()
    await fill(ctx, args.tickets)
    took = time.perf_counter() - started
    print(f"filled {args.tickets} tickets in {took:.1f} s ({db.engine.dialect.name})")
    start, end = bounds(ctx, MONTH)

    async def floor() -> int:
        async with ctx.db.read() as conn:
            query = select(func.count()).where(
                TicketRow.reported_at >= start, TicketRow.reported_at < end
            )
            return int((await conn.execute(query)).scalar_one())

    async def figures() -> Any:
        review = await month_review(ctx, MONTH)
        review_blocks(ctx.tr, review)
        return review

    floor_wall, floor_cpu, count = await timed(floor, args.runs)
    wall, cpu, review = await timed(figures, args.runs)
    csv_wall, csv_cpu, data = await timed(lambda: tickets_csv(ctx, review), args.runs)
    png_wall, png_cpu, png = await timed(lambda: chart_png(review, ctx.tr), 1)
    kept = review.total.met
    print(
        f"month {MONTH}: {count} tickets, promises {kept.met}/{kept.due}, "
        f"breaches {review.total.breaches}, respond p50 {_seconds(review.respond.median)} "
        f"p90 {_seconds(review.respond.p90)}, CSV {len(data) / 1e6:.1f} MB, "
        f"PNG {len(png) / 1e3:.0f} kB"
    )
    print("| step | wall s | process CPU s | vs floor (wall) |")
    print("|---|---|---|---|")
    print(f"| floor: SELECT count(*) of the month | {floor_wall:.3f} | {floor_cpu:.3f} | 1 |")
    for name, w, c in (
        ("review figures (month_review + blocks)", wall, cpu),
        ("CSV of the month's tickets", csv_wall, csv_cpu),
        ("chart PNG (matplotlib, one run)", png_wall, png_cpu),
    ):
        print(f"| {name} | {w:.3f} | {c:.3f} | {w / floor_wall:.0f} |")
    verdict = "met" if wall <= 2.0 else "NOT met"
    print(f"target: review figures in at most 2 s: {wall:.2f} s, {verdict}")
    await db.close()
    folder.cleanup()


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:.0f} s"


if __name__ == "__main__":
    asyncio.run(main())
