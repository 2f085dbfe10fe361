"""Web API calls: the CPU one `chat.postMessage` costs the bot's process, over the bot's own
client (``bot.services.delivery.web_client``: one HTTP session, kept connections) and over
slack_sdk's client without a session (a session and a connection per call, as the bot did
before). The Slack stand-in runs in this process; the calls come from a child process, whose
CPU alone is counted. Over plain HTTP on one machine, so a new connection costs no TLS
handshake here: against Slack itself it costs more.

    .venv/bin/python bench/web_api.py [--calls 2000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.serving import TOKEN, started_standin  # noqa: E402

WARM_UP = 50
MODES = {"kept": "the bot's client (one session)", "per-call": "slack_sdk, no session"}


async def calls(mode: str, api_url: str, count: int) -> dict[str, float]:
    """In the child: ``count`` posts one after another; CPU and wall time per call."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.services.delivery import close_client, retry_handlers, web_client

    if mode == "kept":
        client = web_client(TOKEN, api_url, timeout=30.0)
    else:
        client = AsyncWebClient(token=TOKEN, base_url=api_url, retry_handlers=retry_handlers())
    try:
        for n in range(WARM_UP):
            await client.chat_postMessage(channel="C0SUPPORT", text=f"warm-up {n}")
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(count):
            await client.chat_postMessage(channel="C0SUPPORT", text=f"Page {n} for <@U0ENG1>")
        return {
            "cpu_ms": (time.process_time() - cpu) * 1000 / count,
            "wall_ms": (time.perf_counter() - wall) * 1000 / count,
        }
    finally:
        await close_client(client)


async def bench(count: int, rounds: int) -> None:
    slack = await started_standin()
    rows: list[tuple[str, dict[str, float]]] = []
    try:
        for _ in range(rounds):
            for mode in MODES:
                child = await asyncio.create_subprocess_exec(
                    sys.executable,
                    __file__,
                    "--child",
                    mode,
                    slack.api_url,
                    str(count),
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                )
                out, _ = await child.communicate()
                rows.append((mode, json.loads(out)))
    finally:
        await slack.stop()
    print("| client | calls | CPU ms/call | wall ms/call |")
    print("|---|---|---|---|")
    for mode, figures in rows:
        print(f"| {MODES[mode]} | {count} | {figures['cpu_ms']:.3f} | {figures['wall_ms']:.3f} |")


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _, _, mode, api_url, count = sys.argv
        print(json.dumps(asyncio.run(calls(mode, api_url, int(count)))))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(bench(args.calls, args.rounds))


if __name__ == "__main__":
    main()
