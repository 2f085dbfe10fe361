"""Intake speed: signed view submissions of finished report forms at concurrency 32.

Runs `escalator serve` (a real subprocess, SQLite file, the Slack stand-in in this process
taking what the bot delivers) and, in the same run, a bare Bolt app that only acks (the
floor: the framework's own cost). Prints p50/p99 time to HTTP response and requests/s.

    .venv/bin/python bench/intake.py [--requests 3000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
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

from bench.machine import Meter  # noqa: E402
from bot.sandbox.standin import SlackStandIn, StandInChannel, StandInUser  # noqa: E402

TOKEN = "xoxb-bench-token"
SECRET = "bench-signing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def submission(n: int) -> str:
    values = {
        "summary": {"value": {"type": "plain_text_input", "value": f"Bench problem {n}"}},
        "details": {"value": {"type": "plain_text_input", "value": "Orders stop at checkout " * 8}},
        "system": {"value": {"type": "plain_text_input", "value": "billing"}},
        "triage_stopped": {
            "triage_answer": {"type": "radio_buttons", "selected_option": {"value": "yes"}}
        },
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T0ESCAL", "domain": "bench"},
        "user": {"id": "U0REP", "name": "rita", "team_id": "T0ESCAL"},
        "api_app_id": "A0ESCAL",
        "token": "legacy",
        "trigger_id": f"1.{n}.bench",
        "view": {
            "id": f"VBENCH{n:07d}",
            "team_id": "T0ESCAL",
            "type": "modal",
            "callback_id": "report",
            "private_metadata": json.dumps({"channel": "C0SUPPORT"}),
            "hash": f"h{n}",
            "state": {"values": values},
            "blocks": [],
        },
    }
    return "payload=" + urllib.parse.quote(json.dumps(payload))


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def load(
    url: str, total: int, concurrency: int, offset: int
) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    failures = 0
    counter = iter(range(offset, offset + total))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
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
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed, failures


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


def floor_server(port: int) -> None:
    """A bare Bolt app that only acks the report submission (it checks the signature, as
    Escalator does before Bolt sees a request)."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=os.environ["SLACK_API_URL"]),
        signing_secret=SECRET,
        process_before_response=True,  # as Escalator runs Bolt: no polling for the ack
    )

    @app.view("report")
    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", health)
    web.run_app(web_app, host="127.0.0.1", port=port, print=None, access_log=None)


async def bench(requests: int, concurrency: int) -> None:
    slack = SlackStandIn(
        bot_token=TOKEN,
        signing_secret=SECRET,
        users=[StandInUser(id="U0REP", name="rita", real_name="Rita Reporter")],
        channels=[StandInChannel(id="C0SUPPORT", name="support")],
    )
    await slack.start()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db",
        }
        env.pop("ESCALATOR_CONFIG", None)
        for name, command in (
            (
                "escalator serve (SQLite)",
                [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"],
            ),
            ("bare Bolt app, ack only (floor)", [sys.executable, __file__, "--floor-server"]),
        ):
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
                await load(f"{base}/slack/events", 200, concurrency, offset=10_000_000)  # warm-up
                meter = Meter(proc.pid)
                meter.start()
                latencies, elapsed, failures = await load(
                    f"{base}/slack/events", requests, concurrency, offset=0
                )
                results.append(row(name, latencies, elapsed, failures, meter))
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        stored = subprocess.run(  # noqa: ASYNC221
            [
                sys.executable,
                "-c",
                "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("
                "'select count(*) from tickets').fetchone()[0])",
                f"{tmp}/bench.db",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    await slack.stop()
    header = (
        "target",
        "requests",
        "p50 ms",
        "p99 ms",
        "req/s",
        "non-200",
        "server CPU ms/req",
        "steal %",
    )
    widths = [max(len(r[i]) for r in [header, *results]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *results]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
    ratio = float(results[0][4]) / float(results[1][4])
    print(f"\ntickets stored: {stored} (warm-up included); escalator/floor rate: {ratio:.2f}")
    print(f"concurrency {concurrency}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print("steal: the share of the machine's time the hypervisor gave to other guests")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--floor-server", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.floor_server:
        floor_server(args.port)
        return
    asyncio.run(bench(args.requests, args.concurrency))


if __name__ == "__main__":
    main()
