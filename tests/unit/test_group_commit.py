import asyncio
from collections.abc import Sequence

import pytest

from bot.services.group_commit import Batcher


async def test_items_arriving_together_share_a_batch_and_keep_their_order() -> None:
    batches: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        await asyncio.sleep(0)
        return [i * 10 for i in items]

    batcher: Batcher[int, int] = Batcher(write, max_batch=8)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(20)))
    assert results == [i * 10 for i in range(20)]
    assert [i for b in batches for i in b] == list(range(20))
    assert len(batches) < 20 and max(len(b) for b in batches) <= 8


async def test_a_failing_item_fails_alone() -> None:
    async def write(items: Sequence[int]) -> list[int]:
        if 3 in items:
            raise ValueError("bad item")
        return list(items)

    batcher: Batcher[int, int] = Batcher(write)
    outcomes = await asyncio.gather(*(batcher.submit(i) for i in range(6)), return_exceptions=True)
    assert [o for o in outcomes if not isinstance(o, Exception)] == [0, 1, 2, 4, 5]
    assert isinstance(outcomes[3], ValueError)


async def test_a_lone_item_is_written_at_once() -> None:
    async def write(items: Sequence[str]) -> list[str]:
        return [s.upper() for s in items]

    batcher: Batcher[str, str] = Batcher(write)
    assert await batcher.submit("a") == "A"
    with pytest.raises(ZeroDivisionError):

        async def broken(items: Sequence[str]) -> list[str]:
            raise ZeroDivisionError

        await Batcher(broken).submit("x")


async def test_items_still_on_their_way_join_the_batch() -> None:
    """Requests reach ``submit`` a few loop turns after their bytes arrive: a batch waits
    for the queue to stop growing before it is written, so they share one transaction."""
    batches: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        return list(items)

    batcher: Batcher[int, int] = Batcher(write)

    async def arrive(n: int) -> int:
        for _ in range(n):  # n turns of the loop on the way (parsing, Bolt, the handler)
            await asyncio.sleep(0)
        return await batcher.submit(n)

    assert await asyncio.gather(*(arrive(n) for n in range(6))) == list(range(6))
    assert batches == [list(range(6))]


async def test_a_batch_does_not_wait_past_a_quiet_loop() -> None:
    batches: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        return list(items)

    batcher: Batcher[int, int] = Batcher(write)
    first = asyncio.ensure_future(batcher.submit(1))
    for _ in range(20):  # a quiet loop: the first item is written long before the second
        await asyncio.sleep(0)
    assert first.done()
    assert await batcher.submit(2) == 2
    assert batches == [[1], [2]]
