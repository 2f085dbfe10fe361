"""Work that goes on after Slack has its answer.

Bolt runs each listener to its end before it answers Slack's HTTP request
(``process_before_response``: no polling for the ack). A listener whose answer is ready
before its work is done acks first and hands the rest to :func:`after_answer`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

log = logging.getLogger(__name__)

_running: set[asyncio.Task[Any]] = set()  # strong references until each task is done


def after_answer(work: Awaitable[Any]) -> None:
    """Run ``work`` (a coroutine, or a task already running) to its end; a failure is logged
    (as Bolt logs a listener's)."""
    task = asyncio.ensure_future(work)
    _running.add(task)
    task.add_done_callback(_finished)


async def drain(within: float) -> None:
    """Let the work handed on finish (up to ``within`` seconds), then cancel what is left:
    before a stop closes the database that work writes to."""
    if _running:
        _, pending = await asyncio.wait(set(_running), timeout=within)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=within)


def busy() -> bool:
    """Whether any work handed to :func:`after_answer` is still running."""
    return bool(_running)


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("work after the answer failed", exc_info=task.exception())
