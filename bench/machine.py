"""What the machine did during a timed run: the server's own CPU time, and the share of time
the hypervisor gave to other guests (steal). Linux only (``/proc``); elsewhere both are None.

On a shared VM, requests per second fall with steal while the CPU a request costs stays put,
so the benches print both: a low rate with high steal is the machine, not the code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) the process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def _cpu_times() -> list[int] | None:
    try:
        with open("/proc/stat") as stat:
            return [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return None


@dataclass
class Meter:
    """Started before a timed run, read after it."""

    pid: int
    _cpu: float | None = None
    _times: list[int] | None = None

    def start(self) -> None:
        self._cpu = process_cpu(self.pid)
        self._times = _cpu_times()

    def server_ms_per(self, requests: int) -> str:
        now = process_cpu(self.pid)
        if now is None or self._cpu is None or requests == 0:
            return "n/a"
        return f"{(now - self._cpu) * 1000 / requests:.2f}"

    def steal_percent(self) -> str:
        now = _cpu_times()
        if now is None or self._times is None or len(now) < 8:
            return "n/a"
        delta = [b - a for a, b in zip(self._times, now, strict=False)]
        total = sum(delta[:8])
        return f"{delta[7] * 100 / total:.0f}" if total else "n/a"
