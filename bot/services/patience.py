"""Trying again while the database is away for a while: another process holds SQLite's write
lock past the busy timeout, or a PostgreSQL server restarts. What a person asked for is tried
again with waits that double up to ``LONGEST_WAIT``, for up to ``patience`` seconds, so that a
short outage only delays it; a fault of the work itself (a refusal, a constraint) is raised at
once. The work must be safe to try again: reports and steps carry their request's key, so
the tries open one ticket or apply one step."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from storage.unavailable import transient

log = logging.getLogger(__name__)

T = TypeVar("T")

PATIENCE = 900.0  # seconds: a quarter of an hour, well within a response_url's half hour
FIRST_WAIT, LONGEST_WAIT = 0.5, 30.0


async def patiently(attempt: Callable[[], Awaitable[T]], *, patience: float, what: str) -> T:
    """``attempt()``'s result, tried again on a transient database error; after ``patience``
    seconds the last error is raised."""
    waited, wait = 0.0, FIRST_WAIT
    while True:
        try:
            return await attempt()
        except Exception as error:
            if not transient(error) or waited >= patience:
                raise
            log.warning(
                "%s could not be stored yet (%s); trying again in %.1f s",
                what,
                type(error).__name__,
                wait,
            )
        await asyncio.sleep(wait)
        waited += wait
        wait = min(2 * wait, LONGEST_WAIT)
