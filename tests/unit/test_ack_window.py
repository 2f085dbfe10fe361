import asyncio

from bot.handlers.ack_window import within


async def test_work_done_in_time_gives_its_result() -> None:
    async def quick() -> int:
        return 7

    assert await within(quick(), seconds=1) == 7


async def test_slow_work_goes_on_and_is_handed_back() -> None:
    async def slow() -> str:
        await asyncio.sleep(0.2)
        return "done"

    result = await within(slow(), seconds=0.01)
    assert isinstance(result, asyncio.Task)
    assert await result == "done"
