"""Group commit: callers that arrive while a batch is being written share the next batch.

At low load a batch holds one item and costs what a single call would; under load, items
queue while the current batch commits, and the next transaction takes them all at once.

Before writing, a batch also lets requests already on their way join: a request takes a few
turns of the event loop from its socket to ``submit`` (HTTP parsing, Bolt, the handler), so
the batch yields to the loop until the queue has stopped growing for ``GATHER_ROUNDS`` turns.
A lone item waits three empty turns (microseconds); under load batches grow from about 8 to
about 25 reports, and a report's CPU cost falls by about a third (``bench/intake.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Quiet loop turns a batch waits for more before it is written (see Batcher._gather).
GATHER_ROUNDS = 3


class Batcher(Generic[T, R]):
    """Runs ``write(items)`` for queued items, one batch at a time, in arrival order.

    ``write`` returns one result per item. If a batch fails, its items are tried one by one,
    so one bad item fails alone and the others still get their results.
    """

    def __init__(
        self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *, max_batch: int = 64
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def _gather(self) -> None:
        """Let requests already on their way join: yield to the loop while the queue still
        grows (GATHER_ROUNDS quiet turns end it), up to a full batch."""
        quiet = 0
        while quiet < GATHER_ROUNDS and len(self._queue) < self._max_batch:
            size = len(self._queue)
            await asyncio.sleep(0)
            quiet = quiet + 1 if len(self._queue) == size else 0

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._queue:
            await self._gather()
            batch = self._queue[: self._max_batch]
            del self._queue[: len(batch)]
            live = [(item, future) for item, future in batch if not future.cancelled()]
            if not live:
                continue
            try:
                results = await self._write([item for item, _ in live])
            except Exception as exc:
                if len(live) == 1:
                    if not live[0][1].done():
                        live[0][1].set_exception(exc)
                    continue
                for item, future in live:
                    try:
                        (result,) = await self._write([item])
                    except Exception as exc:  # this item's own failure
                        if not future.done():
                            future.set_exception(exc)
                    else:
                        if not future.done():
                            future.set_result(result)
                continue
            for (_, future), result in zip(live, results, strict=True):
                if not future.done():
                    future.set_result(result)
