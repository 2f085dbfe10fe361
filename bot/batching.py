"""Group commit: callers that arrive while a batch is being written share the next batch.

At low load a batch holds one item and costs what a single call would; under load, items
queue while the current batch commits, and the next transaction takes them all at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


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

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._queue:
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
