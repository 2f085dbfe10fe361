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
    python bench/serving.py --command-rows-server --port P  # Bolt, show's reads, a note's rows

The rows floors are the least a request can cost while it reads and stores what Escalator
reads and stores, with none of Escalator's own work. A report form is answered after the
rows Escalator's report use case writes for a report (its ticket, its first event, its
timers and the messages it owes, copied from one report the use case stored at start) are
inserted with plain SQLAlchemy Core, one ``executemany`` per table, the ticket numbers
taken as Escalator takes them. A `/ticket show` is answered after the two statements
Escalator's ``show`` reads with; a `/ticket note` after its tickets are read in a write
transaction, their version and time bumped, and the rows a note step adds (copied from one
real note) inserted the same way. Batched as above.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from bot.sandbox.standin import (  # noqa: E402
    SlackStandIn,
    StandInChannel,
    StandInUser,
    app_requests,
)

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncConnection

    from bot.services.context import Context
    from storage.db import Database
    from storage.tables import Base

TOKEN = "xoxb-bench-token"
SECRET = "bench-signing-secret"
REPORTER = StandInUser(id="U0REP", name="rita", real_name="Rita Reporter")
ENGINEER = StandInUser(id="U0ENG1", name="erin", real_name="Erin Engineer")


async def started_standin(*users: StandInUser) -> SlackStandIn:
    """The Slack stand-in a bench's servers talk to: the support channel, and ``users``."""
    slack = SlackStandIn(
        bot_token=TOKEN,
        signing_secret=SECRET,
        users=list(users),
        channels=[StandInChannel(id="C0SUPPORT", name="support")],
    )
    await slack.start()
    return slack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed(body: str) -> dict[str, str]:
    return app_requests.signed_headers(SECRET, body, content_type=app_requests.FORM)


async def wait_up(url: str) -> None:
    """Wait, up to two minutes, for the server to answer and to have finished its start's
    pass over the open tickets (``"calendar"`` in ``/healthz``; the floors have none): with
    100,000 open tickets the pass takes about 23 s, and the runs measure requests, not it."""
    async with aiohttp.ClientSession() as http:
        for _ in range(1200):
            try:
                async with http.get(url) as response:
                    if response.status < 500 and not _following(await response.text()):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _following(health: str) -> bool:
    """Whether a ``/healthz`` answer says the start's pass is still going on."""
    try:
        body = json.loads(health)
    except ValueError:  # a floor's plain "ok"
        return False
    return isinstance(body, dict) and body.get("calendar") == "following"


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
COMMAND_ROWS = [sys.executable, str(Path(__file__).resolve()), "--command-rows-server"]
COMMAND_ROWS_ROW = "command's rows floor (Bolt + show's reads, a note's rows), note mix"


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
    print_markdown(header, lines)


def print_markdown(header: Sequence[str], lines: Sequence[Sequence[str]]) -> None:
    """A table as Markdown, its columns padded to line up in a terminal too."""
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    for line in [header, ["-" * w for w in widths], *lines]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")


Template = list[tuple["Table", str, list[dict[str, Any]]]]  # (table, ticket column, rows)


def floor_server(port: int, mode: str = "bare") -> None:
    """A bare Bolt app that only acks the report submission and the `/ticket` command (it
    checks the signature, as Escalator does before Bolt sees a request). Other ``mode``s
    first do, on ``DATABASE_URL``, the work of a floor of the module docstring:
    ``statement``, the stack's floor; ``report_rows``, a report's rows; ``command_rows``, a
    command's rows."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy import bindparam, text

    from bot.services.group_commit import Batcher
    from storage.db import Database
    from storage.ticket_reads import NEWEST_EVENTS
    from storage.tickets import BY_NUMBERS, TICKETS, take_numbers

    app = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=os.environ["SLACK_API_URL"]),
        signing_secret=SECRET,
        process_before_response=True,  # as Escalator runs Bolt: no polling for the ack
    )
    # The bare floor never touches it, and may be started without one (bench/intake_pg.py).
    db = Database(os.environ.get("DATABASE_URL") or "sqlite+aiosqlite://")
    count = text("UPDATE counters SET value = value WHERE name = 'ticket'")
    touch = (
        TICKETS.update()
        .where(TICKETS.c.number == bindparam("n"))
        .values(version=TICKETS.c.version + 1, updated_at=bindparam("at"))
    )
    rows: Template = []
    if mode == "report_rows":
        rows = asyncio.run(_one_reports_rows(db))
    elif mode == "command_rows":
        rows = asyncio.run(_one_notes_rows(db))
    keys = iter(range(10**9))

    async def insert_copies(conn: AsyncConnection, numbers: Sequence[int]) -> None:
        """The template's rows once for each ticket number, a table at a time (the ticket
        first: the others refer to it), with the keys that must be unique made so."""
        for table, column, template in rows:
            copies = [{**row, column: n} for n in numbers for row in template]
            for copy in copies:
                if column == "number":  # a report's intake key
                    copy["intake_key"] = f"floor:{copy['number']}"
                elif column == "key":  # a request's key, which makes a retry apply once
                    copy["key"] = f"floor:{next(keys)}"
            await conn.execute(table.insert(), copies)

    async def write(items: Sequence[None]) -> list[None]:
        async with db.write() as conn:
            if rows:
                await insert_copies(conn, await take_numbers(conn, len(items)))
            else:
                await conn.execute(count)
        return [None for _ in items]

    async def note(numbers: Sequence[int]) -> list[None]:
        async with db.write() as conn:
            await conn.execute(BY_NUMBERS, {"numbers": list(numbers)})  # the tickets (the
            # write transaction holds SQLite's lock, as a step's does)
            at = rows[0][2][0]["at"]
            await conn.execute(touch, [{"n": n, "at": at} for n in numbers])
            await insert_copies(conn, numbers)
        return [None for _ in numbers]

    async def read(numbers: Sequence[int]) -> list[None]:
        params = {"numbers": list(numbers)}
        async with db.read() as conn:
            (await conn.execute(BY_NUMBERS, params)).all()
            if mode == "command_rows":  # and the events `show` lists
                (await conn.execute(NEWEST_EVENTS, params)).all()
        return [None for _ in numbers]

    writes, reads, notes = Batcher(write), Batcher(read), Batcher(note)

    @app.view("report")
    async def ack_only(ack: AsyncAck) -> None:
        if mode != "bare":
            await writes.submit(None)
        await ack()

    @app.command("/ticket")
    async def ack_command(ack: AsyncAck, command: dict[str, str]) -> None:
        verb, number = command["text"].split()[:2]
        if mode == "command_rows" and verb == "note":
            await notes.submit(int(number))
        elif mode != "bare":
            await reads.submit(int(number))
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", health)
    web.run_app(web_app, host="127.0.0.1", port=port, print=None, access_log=None)


def _context(db: Database) -> Context:
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.services.context import Context

    return Context(
        db=db, config=load_config(os.environ.get("ESCALATOR_CONFIG")), clock=SystemClock()
    )


async def _one_reports_rows(db: Database) -> Template:
    """The rows Escalator's report use case stores for one class A report (stored here once):
    (table, ticket column, rows)."""
    from bot.domain.tickets import ReportDraft
    from bot.services.intake import report
    from bot.sla.policy import Severity
    from storage.tables import OutboxRow, TicketEventRow, TicketRow, TimerRow

    draft = ReportDraft(
        summary="Bench problem",
        details="Orders stop at checkout " * 8,
        system="billing",
        severity=Severity.A,
        reporter_id="U0REP",
        origin_channel="C0SUPPORT",
    )
    outcome = await report(_context(db), draft=draft, intake_key="floor:template")
    of_ticket = (("ticket_number", outcome.ticket.number),)
    return await _stored(
        db,
        [
            (TicketRow, "number", (("number", outcome.ticket.number),)),
            (TicketEventRow, "ticket_number", of_ticket),
            (TimerRow, "ticket_number", of_ticket),
            (OutboxRow, "ticket_number", of_ticket),
        ],
    )


async def _one_notes_rows(db: Database) -> Template:
    """The rows Escalator's note step adds (its event, the messages it owes, its request's
    key), from one note on ticket 1 of a database as the benches seed it, with no message
    owed yet (stored here once): (table, ticket column, rows). The step also updates the
    ticket's row (version, time), which the caller does."""
    from bot.services.steps import run_step
    from bot.slack.ticket_parser import parse
    from storage.tables import OutboxRow, ProcessedRequestRow, TicketEventRow

    step = parse("note 1 checked the logs").step
    assert step is not None
    key = "floor:template"
    await run_step(_context(db), number=1, step=step, user_id="U0ENG1", request_key=key)
    return await _stored(
        db,
        [
            (TicketEventRow, "ticket_number", (("ticket_number", 1), ("kind", "note"))),
            (OutboxRow, "ticket_number", (("ticket_number", 1),)),
            (ProcessedRequestRow, "key", (("key", key),)),
        ],
    )


async def _stored(
    db: Database, wanted: list[tuple[type[Base], str, tuple[tuple[str, Any], ...]]]
) -> Template:
    """Of each model, the rows with the given column values, without what the database fills
    in itself (ids, and columns left empty); then the database is closed (its connections
    belong to this event loop)."""
    from sqlalchemy import and_, select

    from storage.tables import table_of

    found: Template = []
    async with db.read() as conn:
        for model, column, where in wanted:
            table = table_of(model)
            matching = and_(*(table.c[name] == value for name, value in where))
            stored = (await conn.execute(select(table).where(matching))).mappings().all()
            keys = [
                c.key
                for c in table.c
                if c.key != "id" and any(r[c.key] is not None for r in stored)
            ]
            found.append((table, column, [{k: row[k] for k in keys} for row in stored]))
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
    which.add_argument("--command-rows-server", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    modes = {
        "floor_server": "bare",
        "stack_floor_server": "statement",
        "report_rows_server": "report_rows",
        "command_rows_server": "command_rows",
    }
    floor_server(args.port, next(mode for flag, mode in modes.items() if getattr(args, flag)))


if __name__ == "__main__":
    main()
