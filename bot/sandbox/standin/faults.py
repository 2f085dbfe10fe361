"""Faults the stand-in can be told to show: server errors, rate limits, hangs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["error", "rate_limit", "hang"]
ANY_METHOD = "*"


@dataclass
class Fault:
    """What the next matching calls get. ``remaining`` None: until cleared."""

    method: str
    kind: FaultKind
    status: int = 500
    retry_after: int = 1
    seconds: float = 0.0
    remaining: int | None = 1

    @property
    def label(self) -> str:
        if self.kind == "error":
            return f"http_{self.status}"
        if self.kind == "rate_limit":
            return f"http_429_retry_after_{self.retry_after}"
        return f"hang_{self.seconds:g}s"


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("times must be at least 1, or None for until cleared")
        self._faults.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        """The fault for this call, if any, counting it down (first added, first used)."""
        for fault in self._faults:
            if fault.method in (method, ANY_METHOD):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                return fault
        return None

    def clear(self, method: str | None = None) -> None:
        self._faults = [f for f in self._faults if method is not None and f.method != method]

    @property
    def active(self) -> list[Fault]:
        return list(self._faults)
