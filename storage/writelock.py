"""The in-process write lock for SQLite, with people first.

Writes for a person waiting on a reply (a report, a command) go before background writes
(the timer engine, the outbox worker) that are queued at the same moment; after
``max_jumps`` such overtakes in a row, a waiting background write gets its turn, so
reminders and deliveries never starve under a burst of reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteLock:
    def __init__(self, *, max_jumps: int = 4) -> None:
        self._held = False
        self._waiting_front = 0
        self._waiting_back = 0
        self._jumps = 0
        self._max_jumps = max_jumps
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def hold(self, *, background: bool = False) -> AsyncIterator[None]:
        async with self._changed:
            if background:
                self._waiting_back += 1
                try:
                    await self._changed.wait_for(self._back_may_go)
                finally:
                    self._waiting_back -= 1
                self._jumps = 0
            else:
                self._waiting_front += 1
                try:
                    await self._changed.wait_for(self._front_may_go)
                finally:
                    self._waiting_front -= 1
                if self._waiting_back:
                    self._jumps += 1
            self._held = True
        try:
            yield
        finally:
            async with self._changed:
                self._held = False
                self._changed.notify_all()

    def _front_may_go(self) -> bool:
        if self._held:
            return False
        return not (self._waiting_back and self._jumps >= self._max_jumps)

    def _back_may_go(self) -> bool:
        if self._held:
            return False
        return self._waiting_front == 0 or self._jumps >= self._max_jumps
