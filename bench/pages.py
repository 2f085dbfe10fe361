"""Page latency: a burst of class A reports into one support channel, with Slack's real posting
rate (one message a second per conversation, bursts of 4).

Runs `escalator serve` (a real subprocess, SQLite file, the production pacing) against the
Slack stand-in in this process, sends N signed report submissions at concurrency 32, and
reads the stand-in's record of calls: for each ticket, the time from its report to the first
page to the on-call primary naming it (p50, p99, worst), printed beside the support channel's
own backlog (its ticket messages and thread lines, which go at one a second). The floor of a
page is Slack's posting rate in the primary's DM; the channel's backlog is what a page that
waited behind the channel would add.

    .venv/bin/python bench/pages.py [--reports 20 100 500] [--root OTHER_CHECKOUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.intake import submission  # noqa: E402
from bench.machine import Meter  # noqa: E402
from bench.serving import SECRET, TOKEN, free_port, print_markdown, signed, wait_up  # noqa: E402
from bot.sandbox.standin import (  # noqa: E402
    RecordedCall,
    SlackStandIn,
    StandInChannel,
    StandInUser,
)

PRIMARY = "U0ENG1"
CONFIG = """
timezone = "Asia/Shanghai"
[channels]
support = "#support"
managers = "#managers"
[roles]
engineers = ["U0ENG1", "U0ENG2"]
managers = ["U0MGR1"]
[oncall]
primary = ["U0ENG1"]
secondary = ["U0ENG2"]
shift = "1w"
handoff = "2026-01-05T09:00"
"""
USERS = [
    StandInUser(id="U0REP", name="rita", real_name="Rita Reporter"),
    StandInUser(id="U0ENG1", name="erin", real_name="Erin Engineer"),
    StandInUser(id="U0ENG2", name="eli", real_name="Eli Engineer"),
    StandInUser(id="U0MGR1", name="max", real_name="Max Manager"),
]
CHANNELS = [
    StandInChannel(id="C0SUPPORT", name="support"),
    StandInChannel(id="C0MANAGERS", name="managers"),
]


def _blocks(call: RecordedCall) -> list[dict[str, Any]]:
    raw = call.params.get("blocks") or "[]"
    return json.loads(raw) if isinstance(raw, str) else list(raw)


def paged(call: RecordedCall) -> list[int]:
    """The report numbers (``Bench problem N``) a page message names."""
    found = []
    for block in _blocks(call):
        if block.get("type") == "section":
            text = str((block.get("text") or {}).get("text", ""))
            if "Bench problem " in text:
                found.append(int(text.split("Bench problem ", 1)[1].split()[0]))
    return found


async def burst(base: str, reports: int, concurrency: int) -> dict[int, float]:
    """Send the reports; report number -> when it was sent (wall clock, as the stand-in)."""
    sent: dict[int, float] = {}
    numbers = iter(range(reports))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            for n in numbers:
                body = submission(n)
                sent[n] = time.time()
                async with http.post(
                    f"{base}/slack/events", data=body.encode(), headers=signed(body)
                ) as response:
                    await response.read()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent


async def one_run(reports: int, concurrency: int, root: Path) -> tuple[str, ...]:
    slack = SlackStandIn(bot_token=TOKEN, signing_secret=SECRET, users=USERS, channels=CHANNELS)
    await slack.start()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(CONFIG)
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db",
            "ESCALATOR_CONFIG": str(config),
        }
        port = free_port()
        argv = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"]
        proc = subprocess.Popen(  # noqa: ASYNC220 - a bench, not a server
            [*argv, "--port", str(port)],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_up(f"{base}/healthz")
            meter = Meter(proc.pid)
            meter.start()
            sent = await burst(base, reports, concurrency)
            dm = slack.dm_channel(PRIMARY)
            first: dict[int, float] = {}
            deadline = time.monotonic() + 120 + reports
            while len(first) < reports and time.monotonic() < deadline:
                for call in slack.calls("chat.postMessage"):
                    if call.ok and call.response and call.response.get("channel") == dm:
                        for n in paged(call):
                            first.setdefault(n, call.time - sent[n])
                await asyncio.sleep(0.2)
            done_at = time.time()
            pages = [
                c
                for c in slack.calls("chat.postMessage")
                if c.ok and c.response and c.response.get("channel") == dm
            ]
            posted = [
                c
                for c in slack.calls("chat.postMessage")
                if c.ok and c.params.get("channel") == "C0SUPPORT" and c.time <= done_at
            ]
            cpu = meter.server_ms_per(reports)
            steal = meter.steal_percent()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    await slack.stop()
    late = sorted(first.values())
    p99 = late[min(len(late) - 1, int(len(late) * 0.99))] if late else float("nan")
    owed = 2 * reports  # each ticket's message and its first thread line
    backlog = owed - len(posted)
    return (
        str(reports),
        f"{len(first)}/{reports}",
        str(len(pages)),
        f"{statistics.median(late):.2f}" if late else "n/a",
        f"{p99:.2f}",
        f"{late[-1]:.2f}" if late else "n/a",
        f"{len(posted)}/{owed}",
        f"{backlog:.0f} s",
        cpu,
        steal,
    )


async def bench(sizes: list[int], concurrency: int, root: Path) -> None:
    rows = [await one_run(n, concurrency, root) for n in sizes]
    header = (
        "reports",
        "paged",
        "page msgs",
        "page p50 s",
        "page p99 s",
        "page worst s",
        "channel posts out",
        "channel backlog left",
        "server CPU ms/report",
        "steal %",
    )
    print_markdown(header, rows)
    print(
        "\nchannel posts out: the support channel's posts done when the last page went out; "
        "backlog left: what remained of the channel's own queue, at one post a second."
    )
    print(f"concurrency {concurrency}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, nargs="+", default=[20, 100, 500])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the checkout whose `escalator serve` runs"
    )
    args = parser.parse_args()
    asyncio.run(bench(args.reports, args.concurrency, args.root.resolve()))


if __name__ == "__main__":
    main()
