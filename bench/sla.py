"""Benchmark of the SLA core: working-time adds and the deadlines of one ticket.

1,000,000 adds on the CN calendar with hours "08:30-12:00,13:30-17:30", durations of up
to 30 working days, starts at random over 2025-01-01 .. 2026-11-15 (so every result
stays in 2026, the last year the holiday library knows), on one core.

Run: .venv/bin/python bench/sla.py [--adds N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, date, datetime, timedelta

from bot.sla.calendar import WorkCalendar
from bot.sla.deadlines import Pause, compute_deadlines
from bot.sla.policy import DEFAULT_POLICY, Severity

HOURS = "08:30-12:00,13:30-17:30"


def _calendar() -> WorkCalendar:
    return WorkCalendar.build(
        timezone="Asia/Shanghai",
        workdays=["mon", "tue", "wed", "thu", "fri"],
        hours=HOURS,
        holidays="CN",
        extra_holidays=["2026-12-31"],
        extra_workdays=[],
    )


def _cases(n: int, seed: int, day_length: timedelta) -> list[tuple[datetime, timedelta]]:
    rng = random.Random(seed)
    first = datetime(2025, 1, 1, tzinfo=UTC)
    span = int((datetime(2026, 11, 15, tzinfo=UTC) - first).total_seconds())
    most = int(30 * day_length.total_seconds())
    return [
        (first + timedelta(seconds=rng.randrange(span)), timedelta(seconds=rng.randrange(most)))
        for _ in range(n)
    ]


def _time_adds(calendar: WorkCalendar, cases: list[tuple[datetime, timedelta]]) -> float:
    add = calendar.add
    began = time.perf_counter()
    for start, working in cases:
        add(start, working)
    return time.perf_counter() - began


def _time_ticket(calendar: WorkCalendar, severity: Severity, repeat: int) -> float:
    """Seconds for all deadlines of one ticket (with a pause, a cause and a fix date);
    the best of five rounds, to keep other processes' noise out."""
    reported = datetime(2026, 9, 30, 16, 0, tzinfo=calendar.tz)
    pauses = (Pause(reported + timedelta(hours=1), reported + timedelta(days=8)),)
    rounds = []
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(repeat):
            compute_deadlines(
                policy=DEFAULT_POLICY,
                calendar=calendar,
                severity=severity,
                reported_at=reported,
                in_warranty=True,
                cause_at=reported + timedelta(days=9),
                pauses=pauses,
                fix_date=date(2026, 10, 20),
            )
        rounds.append((time.perf_counter() - began) / repeat)
    return min(rounds)


def _check(calendar: WorkCalendar, cases: list[tuple[datetime, timedelta]]) -> None:
    """The timed adds are right: between(start, add(start, d)) == d (not timed)."""
    for start, working in cases[:10_000]:
        assert calendar.between(start, calendar.add(start, working)) == working


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adds", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    calendar = _calendar()
    began = time.perf_counter()
    calendar.add(datetime(2025, 1, 2, tzinfo=UTC), timedelta(hours=1))
    calendar.add(datetime(2026, 1, 2, tzinfo=UTC), timedelta(hours=1))
    build_ms = (time.perf_counter() - began) * 1e3
    cases = _cases(args.adds, args.seed, calendar.day_length)
    seconds = _time_adds(calendar, cases)
    _check(calendar, cases)
    rows = [
        ("year tables built (2025 + 2026, once per calendar)", f"{build_ms:.1f} ms"),
        (f"calendar adds ({args.adds:,}, up to 30 working days)", f"{seconds:.2f} s"),
        ("adds per second (target >= 100,000)", f"{args.adds / seconds:,.0f}"),
        ("mean cost of one add", f"{seconds / args.adds * 1e6:.2f} µs"),
    ]
    for severity in Severity:
        cost = _time_ticket(calendar, severity, 4_000)
        rows.append((f"all deadlines of one class {severity} ticket", f"{cost * 1e6:.1f} µs"))
    width = max(len(label) for label, _ in rows)
    print(f"| {'measure':<{width}} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for label, value in rows:
        print(f"| {label:<{width}} | {value} |")


if __name__ == "__main__":
    main()
