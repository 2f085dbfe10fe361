"""Faults the stand-in can be told to show: server errors, rate limits, hangs, and Slack's
own refusals (HTTP 200 with ``ok: false``), for any call or the calls to one channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["error", "rate_limit", "hang", "refuse"]
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
    channel: str | None = None  # only calls naming this channel (as they name it)
    error: str = ""  # a refusal's error code ("is_archived")
    # A held call whose caller went away meanwhile (a process killed) is dropped: neither
    # answered nor done, as a request Slack never finished taking.
    drop_if_gone: bool = False

    def matches(self, method: str, params: Mapping[str, Any]) -> bool:
        if self.method not in (method, ANY_METHOD):
            return False
        return self.channel is None or params.get("channel") == self.channel

    @property
    def label(self) -> str:
        if self.kind == "refuse":
            return f"refused_{self.error}"
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

    def take(self, method: str, params: Mapping[str, Any] | None = None) -> Fault | None:
        """The fault for this call, if any, counting it down (first added, first used)."""
        for fault in self._faults:
            if fault.matches(method, params or {}):
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
