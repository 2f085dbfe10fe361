"""Command speed: signed `/ticket ack N` and `/ticket show N` at concurrency 32 against
`escalator serve` on SQLite, with 100 and with 100,000 tickets in the database.

The tickets are seeded straight into the SQLite file (rows as the report use case writes
them, without timers). Half the requests are `show` of a random ticket, half `ack` of a
random ticket (a ticket acknowledged already gets the one-line refusal, as in real use).

With 100 tickets nearly every `ack` after the first hundred is that refusal, which writes
nothing, while with 100,000 nearly every `ack` is a real step: the two rows are not alike.
So a second mix, `note`, is run on both sizes: half `show`, half `note N …`, which every
engineer may add at any time, so every write is a real step with either size.

    .venv/bin/python bench/ticket_commands.py [--requests 3000] [--mix ack note]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.intake import SECRET, TOKEN, free_port, signed, wait_up  # noqa: E402
from bench.machine import Meter  # noqa: E402
from bot.sandbox.standin import SlackStandIn, StandInChannel, StandInUser  # noqa: E402


def seed(path: str, count: int) -> None:
    """Create the schema (escalator migrate) and insert ``count`` open class B tickets."""
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{path}"}
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    db = sqlite3.connect(path)
    now = "2026-11-23 02:00:00.000000"
    rows = [
        (
            n,
            f"bench:{n}",
            "B",
            "open",
            f"Problem {n}",
            "details " * 10,
            "billing",
            "U0REP",
            "C0SUPPORT",
            "C0SUPPORT",
            None,
            1,
            now,
            1,
            now,
            "[]",
            "",
            "",
            "",
            "",
            "{}",
        )
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
    db.execute("UPDATE counters SET value = ? WHERE name = 'ticket'", (count,))
    db.commit()
    db.close()


def command_body(n: int, text: str) -> str:
    fields = {
        "token": "legacy",
        "team_id": "T0ESCAL",
        "team_domain": "bench",
        "channel_id": "C0SUPPORT",
        "channel_name": "support",
        "user_id": "U0ENG1",
        "user_name": "erin",
        "command": "/ticket",
        "text": text,
        "api_app_id": "A0ESCAL",
        "response_url": "http://127.0.0.1:9/response",
        "trigger_id": f"{n}.bench.trigger",
    }
    return urllib.parse.urlencode(fields)


async def load(
    url: str, total: int, concurrency: int, tickets: int, seed_: int, mix: str
) -> tuple[list[float], float, int]:
    rng = random.Random(seed_)
    write = "ack" if mix == "ack" else "note"
    plan = [
        ("show" if rng.random() < 0.5 else write, rng.randint(1, tickets)) for _ in range(total)
    ]
    latencies: list[float] = []
    failures = 0
    items = iter(enumerate(plan))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def worker() -> None:
            nonlocal failures
            for i, (verb, number) in items:
                text = f"{verb} {number}" + (" checked the logs" if verb == "note" else "")
                body = command_body(seed_ * 1_000_000 + i, text)
                started = time.perf_counter()
                async with http.post(url, data=body.encode(), headers=signed(body)) as response:
                    await response.read()
                    failures += response.status != 200
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - started, failures


async def bench(requests: int, concurrency: int, mixes: list[str]) -> None:
    slack = SlackStandIn(
        bot_token=TOKEN,
        signing_secret=SECRET,
        users=[StandInUser(id="U0ENG1", name="erin", real_name="Erin Engineer")],
        channels=[StandInChannel(id="C0SUPPORT", name="support")],
    )
    await slack.start()
    rows = []
    config = ROOT / "bench" / "ticket_commands.toml"
    for mix, count in [(mix, count) for mix in mixes for count in (100, 100_000)]:
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/commands.db"
            started = time.perf_counter()
            seed(path, count)
            seeded = time.perf_counter() - started
            port = free_port()
            env = {
                **os.environ,
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack.api_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{path}",
                "ESCALATOR_CONFIG": str(config),
            }
            proc = subprocess.Popen(  # noqa: ASYNC220 - a bench, not a server
                [
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                await wait_up(f"http://127.0.0.1:{port}/healthz")
                url = f"http://127.0.0.1:{port}/slack/events"
                await load(url, 200, concurrency, count, seed_=1, mix=mix)  # warm-up
                meter = Meter(proc.pid)
                meter.start()
                latencies, elapsed, failures = await load(
                    url, requests, concurrency, count, seed_=2, mix=mix
                )
                cpu, steal = meter.server_ms_per(len(latencies)), meter.steal_percent()
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            ordered = sorted(latencies)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            rows.append(
                (
                    f"show + {mix}",
                    f"{count:,}",
                    str(len(ordered)),
                    f"{statistics.median(ordered) * 1000:.1f}",
                    f"{p99 * 1000:.1f}",
                    f"{len(ordered) / elapsed:.0f}",
                    str(failures),
                    cpu,
                    steal,
                    f"{seeded:.1f}",
                )
            )
    await slack.stop()
    header = (
        "mix",
        "tickets",
        "requests",
        "p50 ms",
        "p99 ms",
        "cmd/s",
        "non-200",
        "server CPU ms/cmd",
        "steal %",
        "seed s",
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
    print()
    for small, large in zip(rows[::2], rows[1::2], strict=True):
        ratio = float(large[5]) / float(small[5])
        print(f"{small[0]}: rate with 100,000 / rate with 100: {ratio:.2f}")
    print(f"concurrency {concurrency}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print("steal: the share of the machine's time the hypervisor gave to other guests")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--mix", nargs="+", choices=("ack", "note"), default=["ack", "note"])
    args = parser.parse_args()
    asyncio.run(bench(args.requests, args.concurrency, args.mix))


if __name__ == "__main__":
    main()
