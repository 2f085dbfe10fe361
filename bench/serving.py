"""What the HTTP benches share: the servers they start (``escalator serve``, the bare Bolt
floor, and the stack's floor), a timed run against one of them with its CPU per request, and
the table that puts each row's CPU beside the floor's from the same run.

    python bench/serving.py --floor-server --port P   # the floor alone
    python bench/serving.py --stack-floor-server --port P   # Bolt and one statement per request

The stack's floor is what the chosen stack costs before any of Escalator's work: the same
Bolt app, each request answered after one statement on the database the bench seeded,
through SQLAlchemy's async engine and aiosqlite on kept connections as Escalator keeps them
(``storage.db.Database``): a `/ticket` command reads its ticket's row, a report form is one
write transaction (``BEGIN IMMEDIATE``, an ``UPDATE``, ``COMMIT``). Requests that arrive
together share the statement (``bot.services.group_commit.Batcher``), as Escalator's do.

    python bench/serving.py --report-rows-server --port P   # Bolt and a report's rows

The report's rows floor is the least a report can cost while it stores what Escalator
stores: the same Bolt app, each report form answered after the rows Escalator's report use
case writes for one report (its ticket, its first event, its timers and the messages owed,
copied from one report the use case stored at start) are inserted with plain SQLAlchemy
Core, one ``executemany`` per table, with the ticket numbers taken as Escalator takes them;
batched as above.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import Meter  # noqa: E402
from bot.sandbox.standin import SlackStandIn, app_requests  # noqa: E402

if TYPE_CHECKING:
    from sqlalchemy import Table

    from storage.db import Database

TOKEN = "xoxb-bench-token"
SECRET = "bench-signing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed(body: str) -> dict[str, str]:
    return app_requests.signed_headers(SECRET, body, content_type=app_requests.FORM)


async def wait_up(url: str) -> None:
    """Wait for the server to answer, up to two minutes: with 100,000 open tickets a start
    re-arms them all from the calendar first (bot.services.calendar_start), about half a
    minute on a loaded machine."""
    async with aiohttp.ClientSession() as http:
        for _ in range(1200):
            try:
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Run:
    """One timed run against one server: what the client saw and what the server spent."""

    latencies: list[float]
    elapsed: float
    failures: int
    cpu_ms: float | None  # the server process's CPU time per request
    steal: str

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed


Drive = Callable[[str, int, bool], Awaitable[tuple[list[float], float, int]]]


async def measure(command: list[str], env: dict[str, str], drive: Drive, requests: int) -> Run:
    """Start the server ``command`` on a free port, warm it up with 200 requests, then time
    ``requests`` of them (``drive(url, count, warm_up)``) and read its CPU time."""
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - a bench, not a server
        [*command, "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_up(f"{base}/healthz")
        await drive(f"{base}/slack/events", 200, True)
        meter = Meter(proc.pid)
        meter.start()
        latencies, elapsed, failures = await drive(f"{base}/slack/events", requests, False)
        cpu = meter.server_ms_per(len(latencies))
        return Run(
            latencies,
            elapsed,
            failures,
            None if cpu == "n/a" else float(cpu),
            meter.steal_percent(),
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


SERVE = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"]
FLOOR = [sys.executable, str(Path(__file__).resolve()), "--floor-server"]
STACK_FLOOR = [sys.executable, str(Path(__file__).resolve()), "--stack-floor-server"]
STACK_FLOOR_ROW = "stack floor (Bolt + 1 statement via SQLAlchemy/aiosqlite)"
REPORT_ROWS = [sys.executable, str(Path(__file__).resolve()), "--report-rows-server"]
REPORT_ROWS_ROW = "report's rows floor (Bolt + a report's 8 rows via SQLAlchemy Core)"


def floor_cpu(floors: list[Run]) -> float | None:
    """The floor's CPU per request: the mean of its runs before and after the others."""
    known = [r.cpu_ms for r in floors if r.cpu_ms is not None]
    return sum(known) / len(known) if known else None


def print_table(
    first: str, rows: list[tuple[str, Run]], floors: list[Run], *, per: str = "req"
) -> None:
    """One line per run, with the floor's CPU per request (measured in the same run) and
    the ratio beside each; the floor's own runs last."""
    floor = floor_cpu(floors)
    header = (
        first,
        "requests",
        "p50 ms",
        "p99 ms",
        f"{per}/s",
        "non-200",
        f"server CPU ms/{per}",
        f"floor CPU ms/{per}",
        "x floor",
        "steal %",
    )
    lines = []
    for name, run in [
        *rows,
        *((f"floor (bare Bolt, ack only) {i + 1}", r) for i, r in enumerate(floors)),
    ]:
        ratio = f"{run.cpu_ms / floor:.2f}" if run.cpu_ms is not None and floor else "n/a"
        lines.append(
            (
                name,
                str(len(run.latencies)),
                f"{run.p50_ms:.1f}",
                f"{run.p99_ms:.1f}",
                f"{run.rate:.0f}",
                str(run.failures),
                "n/a" if run.cpu_ms is None else f"{run.cpu_ms:.2f}",
                "n/a" if floor is None else f"{floor:.2f}",
                ratio,
                run.steal,
            )
        )
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *lines]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")


def floor_server(port: int, *, statement: bool = False, report_rows: bool = False) -> None:
    """A bare Bolt app that only acks the report submission and the `/ticket` command (it
    checks the signature, as Escalator does before Bolt sees a request); with ``statement``,
    the stack's floor (module docstring): one statement on ``DATABASE_URL`` first; with
    ``report_rows``, a report's rows first."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy import text

    from bot.services.group_commit import Batcher
    from storage.db import Database
    from storage.tickets import BY_NUMBERS, take_numbers

    app = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=os.environ["SLACK_API_URL"]),
        signing_secret=SECRET,
        process_before_response=True,  # as Escalator runs Bolt: no polling for the ack
    )
    db = Database(os.environ["DATABASE_URL"])
    count = text("UPDATE counters SET value = value WHERE name = 'ticket'")

    rows: list[tuple[Table, str, list[dict[str, Any]]]] = []

    async def write(items: Sequence[None]) -> list[None]:
        async with db.write() as conn:
            if not rows:
                await conn.execute(count)
                return [None for _ in items]
            numbers = await take_numbers(conn, len(items))
            for table, column, template in rows:  # the ticket first: the others refer to it
                copies = [{**row, column: n} for n in numbers for row in template]
                if column == "number":
                    copies = [{**row, "intake_key": f"floor:{row[column]}"} for row in copies]
                await conn.execute(table.insert(), copies)
        return [None for _ in items]

    async def read(numbers: Sequence[int]) -> list[None]:
        async with db.read() as conn:
            (await conn.execute(BY_NUMBERS, {"numbers": list(numbers)})).all()
        return [None for _ in numbers]

    writes, reads = Batcher(write), Batcher(read)

    @app.view("report")
    async def ack_only(ack: AsyncAck) -> None:
        if statement:
            await writes.submit(None)
        await ack()

    @app.command("/ticket")
    async def ack_command(ack: AsyncAck, command: dict[str, str]) -> None:
        if statement:
            await reads.submit(int(command["text"].split()[1]))
        await ack()

    if report_rows:
        rows.extend(asyncio.run(_one_reports_rows(db)))

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", health)
    web.run_app(web_app, host="127.0.0.1", port=port, print=None, access_log=None)


async def _one_reports_rows(db: Database) -> list[tuple[Table, str, list[dict[str, Any]]]]:
    """The rows Escalator's report use case stores for one class A report (stored here once,
    with the default config), without their generated ids and empty columns: (table, ticket
    column, rows)."""
    from sqlalchemy import select

    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.domain.tickets import ReportDraft
    from bot.services.context import Context
    from bot.services.intake import report
    from bot.sla.policy import Severity
    from storage.tables import OutboxRow, TicketEventRow, TicketRow, TimerRow, table_of

    draft = ReportDraft(
        summary="Bench problem",
        details="Orders stop at checkout " * 8,
        system="billing",
        severity=Severity.A,
        reporter_id="U0REP",
        origin_channel="C0SUPPORT",
    )
    ctx = Context(db=db, config=load_config(None), clock=SystemClock())
    number = (await report(ctx, draft=draft, intake_key="floor:template")).ticket.number
    found: list[tuple[Table, str, list[dict[str, Any]]]] = []
    async with db.read() as conn:
        for model, column in (
            (TicketRow, "number"),
            (TicketEventRow, "ticket_number"),
            (TimerRow, "ticket_number"),
            (OutboxRow, "ticket_number"),
        ):
            table = table_of(model)
            result = await conn.execute(select(table).where(table.c[column] == number))
            stored = result.mappings().all()
            # what the database fills in itself is left to it: ids, and columns left empty
            keys = [
                c.key
                for c in table.c
                if c.key != "id" and any(r[c.key] is not None for r in stored)
            ]
            template = [{k: row[k] for k in keys} for row in stored]
            found.append((table, column, template))
    await db.close()
    return found


def standin_env(slack: SlackStandIn, database: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
    }
    env.pop("ESCALATOR_CONFIG", None)
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--floor-server", action="store_true")
    which.add_argument("--stack-floor-server", action="store_true")
    which.add_argument("--report-rows-server", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    floor_server(
        args.port,
        statement=args.stack_floor_server or args.report_rows_server,
        report_rows=args.report_rows_server,
    )


if __name__ == "__main__":
    main()
