"""Slack wants an answer within 3 seconds. When the database is slow (another process holds
SQLite's write lock), the work goes on and the answer comes later by another way."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")

ACK_WITHIN = 2.5  # seconds: Slack gives up at 3


async def within(work: Awaitable[T], seconds: float = ACK_WITHIN) -> asyncio.Task[T] | T:
    """The result of ``work`` if it is done in time; else the still-running task (shielded,
    so the work is never cut off halfway: a use case is all-or-nothing anyway)."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task in done:
        return task.result()
    return task
