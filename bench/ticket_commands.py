"""Command speed: signed `/ticket ack N` and `/ticket show N` at concurrency 32 against
`escalator serve` on SQLite, with 100 and with 100,000 tickets in the database.

The tickets are seeded straight into the SQLite file (rows as the report use case writes
them, without timers). Half the requests are `show` of a random ticket, half `ack` of a
random ticket (a ticket acknowledged already gets the one-line refusal, as in real use).

With 100 tickets nearly every `ack` after the first hundred is that refusal, which writes
nothing, while with 100,000 nearly every `ack` is a real step: the two rows are not alike.
So a second mix, `note`, is run on both sizes: half `show`, half `note N …`, which every
engineer may add at any time, so every write is a real step with either size.

Each row prints the server's CPU per command beside the bare Bolt floor's (an app that only
acks `/ticket`), measured before and after the other rows of the same run.

    .venv/bin/python bench/ticket_commands.py [--requests 3000] [--mix ack note]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.intake import seed  # noqa: E402
from bench.serving import (  # noqa: E402
    COMMAND_ROWS,
    COMMAND_ROWS_ROW,
    ENGINEER,
    FLOOR,
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
from bot.sandbox.standin import app_requests  # noqa: E402

# The config the command benches' servers run with: U0ENG1 an engineer, so `ack` is a real step.
CONFIG = str(ROOT / "bench" / "ticket_commands.toml")


def command_body(n: int, text: str) -> str:
    form = app_requests.slash_command_form(
        token="legacy",
        team_id="T0ESCAL",
        team_domain="bench",
        channel_id="C0SUPPORT",
        channel_name="support",
        user_id="U0ENG1",
        user_name="erin",
        command="/ticket",
        text=text,
        api_app_id="A0ESCAL",
        response_url="http://127.0.0.1:9/response",
        trigger_id=f"{n}.bench.trigger",
    )
    return urllib.parse.urlencode(form)


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


def driver(concurrency: int, mix: str, tickets: int) -> Drive:
    """`/ticket` commands of the mix on tickets 1 to ``tickets``; the warm-up draws its own."""

    async def drive(url: str, count: int, warm_up: bool) -> tuple[list[float], float, int]:
        return await load(url, count, concurrency, tickets, seed_=1 if warm_up else 2, mix=mix)

    return drive


async def bench(requests: int, concurrency: int, mixes: list[str]) -> None:
    slack = await started_standin(ENGINEER)
    rows: list[tuple[str, Run]] = []
    floors: list[Run] = []

    with tempfile.TemporaryDirectory() as tmp:
        env = standin_env(slack, f"{tmp}/floor.db")
        floors.append(await measure(FLOOR, env, driver(concurrency, "note", 100), requests))
        for mix, count in [(mix, count) for mix in mixes for count in (100, 100_000)]:
            path = f"{tmp}/commands-{mix}-{count}.db"
            await asyncio.to_thread(seed, path, count, CONFIG)
            env = {**standin_env(slack, path), "ESCALATOR_CONFIG": CONFIG}
            rows.append(
                (
                    f"show + {mix}, {count:,} tickets",
                    await measure(SERVE, env, driver(concurrency, mix, count), requests),
                )
            )
        env = standin_env(slack, f"{tmp}/commands-{mixes[-1]}-100000.db")
        stack = await measure(STACK_FLOOR, env, driver(concurrency, "note", 100_000), requests)
        floor_rows = [(STACK_FLOOR_ROW, stack)]
        if "note" in mixes:  # on 100 tickets seeded as for the note mix's row
            path = f"{tmp}/commands-floor-100.db"
            await asyncio.to_thread(seed, path, 100, CONFIG)
            env = {**standin_env(slack, path), "ESCALATOR_CONFIG": CONFIG}
            command_rows = await measure(
                COMMAND_ROWS, env, driver(concurrency, "note", 100), requests
            )
            floor_rows.append((COMMAND_ROWS_ROW, command_rows))
        env = standin_env(slack, f"{tmp}/floor.db")
        floors.append(await measure(FLOOR, env, driver(concurrency, "note", 100), requests))
    await slack.stop()
    print_table("mix", [*rows, *floor_rows], floors, per="cmd")
    print()
    for (name, small), (_, large) in zip(rows[::2], rows[1::2], strict=True):
        mix = name.split(",")[0]
        print(f"{mix}: rate with 100,000 / rate with 100: {large.rate / small.rate:.2f}")
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
