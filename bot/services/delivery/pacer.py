"""Slack's posting rate: about one message a second per conversation, with short bursts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

POST_RATE = 1.0  # messages per second per conversation
POST_BURST = 4


@dataclass(frozen=True)
class Pacing:
    """How fast delivery may post (``build()`` takes one; tests lift the rate)."""

    rate: float = POST_RATE
    burst: int = POST_BURST
    max_wait: float = 2.0  # a conversation whose next turn is further off is left for later


class ChannelPacer:
    """A token bucket per conversation: ``rate`` messages a second on average, ``burst`` at
    once. Real elapsed time (``monotonic``), not the bot's clock: it paces calls to Slack."""

    def __init__(
        self,
        rate: float = POST_RATE,
        burst: int = POST_BURST,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}

    def _tokens(self, key: str) -> tuple[float, float]:
        now = self.monotonic()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - last) * self.rate), now

    def reserve(self, key: str, max_wait: float = float("inf")) -> float | None:
        """Take a turn on ``key``: seconds to wait before posting, or None (no turn taken)
        when that would be longer than ``max_wait``."""
        tokens, now = self._tokens(key)
        wait = max(0.0, (1.0 - tokens) / self.rate)
        if wait > max_wait:
            self._buckets[key] = (tokens, now)
            return None
        self._buckets[key] = (tokens - 1.0, now)
        return wait

    def wait_for(self, key: str) -> float:
        """Seconds until ``key`` has a turn (0: now)."""
        tokens, _ = self._tokens(key)
        return max(0.0, (1.0 - tokens) / self.rate)

    def busy(self, max_wait: float) -> list[str]:
        """The conversations whose next turn is more than ``max_wait`` seconds off."""
        return [key for key in self._buckets if self.wait_for(key) > max_wait]
