"""sleep_until_woken: woken early, and always stoppable."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import sleep_until_woken
from tests.fakes import FakeClock

START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def test_a_wake_ends_the_sleep_before_its_time() -> None:
    clock, wake = FakeClock(START), asyncio.Event()
    sleeping = asyncio.create_task(sleep_until_woken(clock, wake, START + timedelta(hours=1)))
    await asyncio.sleep(0)
    assert not sleeping.done()
    wake.set()
    await asyncio.wait_for(sleeping, 1)


@pytest.mark.parametrize("turns", range(8))
async def test_a_cancel_right_after_a_wake_is_not_lost(turns: int) -> None:
    """The loop of a worker (the timer engine) is stopped by cancelling it: a cancel that
    arrives while the sleep is ending must still stop it (it once slept on for ever)."""
    clock, wake = FakeClock(START), asyncio.Event()

    async def worker() -> None:
        while True:
            wake.clear()
            await sleep_until_woken(clock, wake, START + timedelta(hours=1))

    task = asyncio.create_task(worker())
    await asyncio.sleep(0)
    wake.set()
    for _ in range(turns):  # each count of turns cancels at another point of the wake-up
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)
