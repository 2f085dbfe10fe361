"""Escalator's CPU per request as a multiple of the bare Bolt floor's, from alternating runs.

One run's ratio says little on a shared VM: on 2026-11-30 the bare floor alone measured
0.17 to 0.49 ms a request within the hour, and the same server 0.90 to 1.51 ms, so a
single pair can read anywhere from 3x to 6x. This script runs the floor and the rows it is
compared with in turn, ``--rounds`` times, each on a fresh copy of the same seeded file,
and prints for each row the median of its per-round ratios to the floor run of the same
round, with their range. The rows are the report form (intake), `/ticket` show + note and
show + ack, and the rows floors of ``bench/serving.py`` (the least each of those requests
can cost on this stack with none of Escalator's code), all on 100 tickets; the 100,000
ticket rows stay with ``bench/intake.py`` and ``bench/ticket_commands.py``.

    .venv/bin/python bench/ratios.py [--rounds 5] [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import intake, ticket_commands  # noqa: E402
from bench.serving import (  # noqa: E402
    COMMAND_ROWS,
    ENGINEER,
    FLOOR,
    REPORT_ROWS,
    REPORTER,
    SERVE,
    Drive,
    measure,
    print_markdown,
    standin_env,
    started_standin,
)

TICKETS = 100


def _commands(concurrency: int, mix: str) -> Drive:
    return ticket_commands.driver(concurrency, mix, TICKETS)


_NOTES = partial(_commands, mix="note")


# (row, server, seeded file, its load) in the order of a round; each group's first row is
# the bare floor the others of the group are divided by.
Plan = list[tuple[str, list[str], str, Callable[[int], Drive]]]
GROUPS: list[Plan] = [
    [
        ("bare floor (report form)", FLOOR, "reports", intake.driver),
        ("intake", SERVE, "reports", intake.driver),
        ("report's rows floor", REPORT_ROWS, "reports", intake.driver),
    ],
    [
        ("bare floor (/ticket)", FLOOR, "commands", _NOTES),
        ("show + note", SERVE, "commands", _NOTES),
        ("show + ack", SERVE, "commands", partial(_commands, mix="ack")),
        ("command's rows floor", COMMAND_ROWS, "commands", _NOTES),
    ],
]


async def bench(rounds: int, requests: int, concurrency: int) -> None:
    slack = await started_standin(REPORTER, ENGINEER)
    cpu: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        seeded = {"reports": f"{tmp}/reports.db", "commands": f"{tmp}/commands.db"}
        await asyncio.to_thread(intake.seed, seeded["reports"], TICKETS)
        await asyncio.to_thread(intake.seed, seeded["commands"], TICKETS, ticket_commands.CONFIG)
        for n in range(rounds):
            for group in GROUPS:
                floor: float | None = None
                for i, (name, server, which, driver) in enumerate(group):
                    path = f"{tmp}/{n}-{which}-{i}.db"  # a fresh copy: no run sees another's rows
                    await asyncio.to_thread(shutil.copyfile, seeded[which], path)
                    env = standin_env(slack, path)
                    if which == "commands":
                        env["ESCALATOR_CONFIG"] = ticket_commands.CONFIG
                    run = await measure(server, env, driver(concurrency), requests)
                    if run.cpu_ms is None:
                        raise SystemExit("no CPU figures: this needs Linux's /proc")
                    if run.failures:
                        raise SystemExit(f"{name}: {run.failures} requests failed")
                    cpu.setdefault(name, []).append(run.cpu_ms)
                    if floor is None:  # the group's first row is its floor
                        floor = run.cpu_ms
                    ratios.setdefault(name, []).append(run.cpu_ms / floor)
                    print(f"round {n + 1}: {name}: {run.cpu_ms:.2f} ms", file=sys.stderr)
    await slack.stop()
    header = ("row", "CPU ms/req, median", "range", "x bare floor, median", "range")
    lines = [
        (
            name,
            f"{statistics.median(cpu[name]):.2f}",
            f"{min(cpu[name]):.2f}–{max(cpu[name]):.2f}",
            f"{statistics.median(ratios[name]):.2f}",
            f"{min(ratios[name]):.2f}–{max(ratios[name]):.2f}",
        )
        for name in cpu
    ]
    print_markdown(header, lines)
    print(
        f"\n{rounds} rounds of {requests} requests a row, concurrency {concurrency}, "
        f"{TICKETS} tickets, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
        "each ratio is to the bare floor's run of the same round"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(bench(args.rounds, args.requests, args.concurrency))


if __name__ == "__main__":
    main()
