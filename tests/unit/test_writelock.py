import asyncio

from storage.writelock import WriteLock


async def test_people_go_before_background_work_but_background_is_not_starved() -> None:
    lock = WriteLock(max_jumps=2)
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with lock.hold():
            order.append("first")
            await release.wait()

    async def writer(name: str, *, background: bool) -> None:
        async with lock.hold(background=background):
            order.append(name)
            await asyncio.sleep(0)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(writer("bg", background=True))]
    await asyncio.sleep(0)
    waiting += [asyncio.create_task(writer(f"p{i}", background=False)) for i in range(4)]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *waiting)
    assert order[0] == "first"
    assert order.index("bg") == 3  # two people overtook it, then it had its turn
    assert sorted(order) == sorted(["first", "bg", "p0", "p1", "p2", "p3"])


async def test_one_holder_at_a_time() -> None:
    lock = WriteLock()
    inside = 0
    most = 0

    async def writer(background: bool) -> None:
        nonlocal inside, most
        async with lock.hold(background=background):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(writer(i % 3 == 0) for i in range(30)))
    assert most == 1
