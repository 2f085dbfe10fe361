"""Intake on PostgreSQL: one and two `escalator serve` replicas on one database, beside one
replica on SQLite and the bare-Bolt floor, in the same run.

The same signed report submissions as bench/intake.py, at the same concurrency; with two
replicas the client's connections alternate between them, as a load balancer would. Prints
p50/p99 time to HTTP response, requests/s, the replicas' CPU per request (both summed), the
PostgreSQL server's CPU per request (the postmaster and its backends), and the steal.

Needs a PostgreSQL server whose user may CREATE DATABASE (one is made per target, and
dropped after):

    eval "$(bash .ci/start-postgres.sh)"
    .venv/bin/python bench/intake_pg.py [--requests 3000] [--concurrency 32]
    bash .ci/stop-postgres.sh "$ESCALATOR_PG_DIR"
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.intake import load  # noqa: E402
from bench.machine import Meter, process_cpu  # noqa: E402
from bench.serving import (  # noqa: E402
    FLOOR,
    REPORTER,
    SECRET,
    TOKEN,
    free_port,
    print_markdown,
    started_standin,
    wait_up,
)
from storage.notify import asyncpg_dsn  # noqa: E402


def server_url() -> str:
    url = os.environ.get("ESCALATOR_BENCH_DATABASE") or os.environ.get("ESCALATOR_TEST_DATABASE")
    if not url:
        raise SystemExit(
            'intake_pg: set ESCALATOR_TEST_DATABASE (eval "$(bash .ci/start-postgres.sh)")'
        )
    return url


async def admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def database_url(url: str, name: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


class DatabaseCPU:
    """CPU seconds of the PostgreSQL server: its postmaster and the backends under it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pid: int | None = None

    async def find(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(self.url))
        try:  # the backend's parent, read while the backend is there
            self.pid = _parent(int(await conn.fetchval("SELECT pg_backend_pid()")))
        finally:
            await conn.close()

    def seconds(self) -> float | None:
        if self.pid is None:
            return None
        total = process_cpu(self.pid) or 0.0
        for entry in os.listdir("/proc"):
            if entry.isdigit() and _parent(int(entry)) == self.pid:
                total += process_cpu(int(entry)) or 0.0
        return total


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def row(
    name: str, latencies: list[float], elapsed: float, failures: int, meter: Meter
) -> tuple[str, ...]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        name,
        str(len(latencies)),
        f"{statistics.median(ordered) * 1000:.1f}",
        f"{p99 * 1000:.1f}",
        f"{len(latencies) / elapsed:.0f}",
        str(failures),
        meter.server_ms_per(len(latencies)),
        meter.steal_percent(),
    )


@dataclass
class Target:
    name: str
    command: list[str]
    replicas: int
    database_url: str | None  # None: the floor, no database


async def run_target(
    target: Target, env: dict[str, str], requests: int, concurrency: int, db_cpu: DatabaseCPU
) -> tuple[str, ...]:
    procs = []
    if target.database_url is not None:
        env = {**env, "DATABASE_URL": target.database_url}
    try:
        for _ in range(target.replicas):
            port = free_port()
            procs.append(
                (
                    port,
                    subprocess.Popen(  # noqa: ASYNC220 - a bench, not a server
                        [*target.command, "--port", str(port)],
                        env=env,
                        cwd=ROOT,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    ),
                )
            )
            # one at a time: the first migrates, the next finds the schema current
            await wait_up(f"http://127.0.0.1:{port}/healthz")
        urls = [f"http://127.0.0.1:{port}/slack/events" for port, _ in procs]
        await load(urls, 200, concurrency, offset=10_000_000 + 1_000_000 * len(procs))  # warm-up
        meters = [Meter(proc.pid) for _, proc in procs]
        for meter in meters:
            meter.start()
        on_postgres = target.database_url is not None and "postgresql" in target.database_url
        db_before = db_cpu.seconds() if on_postgres else None
        latencies, elapsed, failures = await load(urls, requests, concurrency, offset=0)
        db_after = db_cpu.seconds() if on_postgres else None
        cells = list(row(target.name, latencies, elapsed, failures, meters[0]))
        per = [m.server_ms_per(len(latencies)) for m in meters]
        if "n/a" not in per:
            cells[6] = f"{sum(float(p) for p in per):.2f}"
        db_ms = (
            f"{(db_after - db_before) * 1000 / len(latencies):.2f}"
            if db_before is not None and db_after is not None
            else "-"
        )
        return (*cells[:7], db_ms, cells[7])
    finally:
        for _, proc in procs:
            proc.terminate()
        for _, proc in procs:
            proc.wait(timeout=30)


async def bench(requests: int, concurrency: int, only: str | None = None) -> None:
    server = server_url()
    slack = await started_standin(REPORTER)
    db_cpu = DatabaseCPU(server)
    await db_cpu.find()
    serve = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"]
    names = [f"escalator_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
        }
        env.pop("ESCALATOR_CONFIG", None)
        targets = [
            Target("serve x1 (SQLite)", serve, 1, f"sqlite+aiosqlite:///{tmp}/bench.db"),
            Target("serve x1 (PostgreSQL)", serve, 1, database_url(server, names[0])),
            Target("serve x2 (PostgreSQL)", serve, 2, database_url(server, names[1])),
            Target(
                "bare Bolt, ack only (floor)",
                FLOOR,
                1,
                None,
            ),
        ]
        if only:  # a subset, for a quick look (the floor always runs: the ratios need it)
            targets = [t for t in targets if only in t.name or t.database_url is None]
        for name in names:
            await admin(server, f'CREATE DATABASE "{name}"')
        try:
            for target in targets:
                results.append(await run_target(target, env, requests, concurrency, db_cpu))
        finally:
            for name in names:
                await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await slack.stop()
    header = (
        "target",
        "requests",
        "p50 ms",
        "p99 ms",
        "req/s",
        "non-200",
        "serve CPU ms/req",
        "PG CPU ms/req",
        "steal %",
    )
    print_markdown(header, results)
    floor = float(results[-1][4])
    print("\nrate / floor: " + ", ".join(f"{r[0]} {float(r[4]) / floor:.2f}" for r in results[:-1]))
    print(f"concurrency {concurrency}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print("serve CPU: all replicas summed; PG CPU: the postmaster and its backends")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--only", help="run the targets whose name contains this (and the floor)")
    args = parser.parse_args()
    asyncio.run(bench(args.requests, args.concurrency, args.only))


if __name__ == "__main__":
    main()
