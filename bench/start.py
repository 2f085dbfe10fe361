"""Start-up with many open tickets: how soon `escalator serve` answers, while its start's pass
makes the open tickets follow the calendar (SPEC §4; ``bot.services.calendar_start``).

The tickets are seeded into an SQLite file as the report use case stores them, with their
timers but without their stored deadlines (as ``bench/intake.py`` seeds them), and the server
is started twice: the first start's pass has the deadlines to store, the second finds every
ticket as the calendar says. For each start: when ``/healthz`` first answers, when a signed
``/ticket show 1`` is answered (sent as soon as ``/healthz`` answers), when ``/healthz`` says
the pass is done, and the server's CPU until then.

    .venv/bin/python bench/start.py [--tickets 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.intake import seed  # noqa: E402
from bench.machine import process_cpu  # noqa: E402
from bench.serving import (  # noqa: E402
    ENGINEER,
    SERVE,
    free_port,
    print_markdown,
    signed,
    standin_env,
    started_standin,
    wait_up,
)
from bench.ticket_commands import CONFIG, command_body  # noqa: E402

LIMIT = 300.0  # seconds a start may take to answer /healthz


async def health(http: aiohttp.ClientSession, url: str) -> dict[str, object] | None:
    try:
        async with http.get(url) as response:
            body = json.loads(await response.text())
            return body if response.status == 200 and isinstance(body, dict) else None
    except (aiohttp.ClientError, ValueError):
        return None


async def one_start(env: dict[str, str]) -> dict[str, str]:
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: ASYNC220 - a bench, not a server
        [*SERVE, "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            while (await health(http, f"{base}/healthz")) is None:
                if time.perf_counter() - started > LIMIT:
                    raise RuntimeError("the server did not answer /healthz")
                await asyncio.sleep(0.02)
            up = time.perf_counter() - started
            body = command_body(1, "show 1")
            sent = time.perf_counter()
            async with http.post(
                f"{base}/slack/events", data=body.encode(), headers=signed(body)
            ) as response:
                shown = await response.text()
                if response.status != 200 or "#1" not in shown:
                    raise RuntimeError(f"show 1 answered {response.status}: {shown[:200]}")
            show_ms = (time.perf_counter() - sent) * 1000
            answered = time.perf_counter() - started
            await wait_up(f"{base}/healthz")  # the pass is done
            done = time.perf_counter() - started
            state = await health(http, f"{base}/healthz") or {}
            cpu = process_cpu(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "healthz 200 after s": f"{up:.1f}",
        "show 1 answered after s": f"{answered:.1f} ({show_ms:.0f} ms)",
        "pass done after s": f"{done:.1f} ({state.get('calendar')})",
        "server CPU s": "n/a" if cpu is None else f"{cpu:.1f}",
    }


async def bench(tickets: int) -> None:
    slack = await started_standin(ENGINEER)
    rows: list[tuple[str, dict[str, str]]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/start.db"
            await asyncio.to_thread(seed, path, tickets, CONFIG)
            env = {**standin_env(slack, path), "ESCALATOR_CONFIG": CONFIG}
            rows.append(("first (deadlines to store)", await one_start(env)))
            rows.append(("second (all as it should be)", await one_start(env)))
    finally:
        await slack.stop()
    header = ["start", "open tickets", *rows[0][1]]
    lines = [[name, f"{tickets:,}", *row.values()] for name, row in rows]
    print_markdown(header, lines)
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(bench(args.tickets))


if __name__ == "__main__":
    main()
