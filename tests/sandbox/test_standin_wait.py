"""Waiting for what the bot delivers, and listening to changes."""

from __future__ import annotations

import asyncio
import time

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import Change, SlackStandIn


async def test_wait_for_wakes_when_the_message_arrives(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    async def deliver_later() -> None:
        await asyncio.sleep(0.1)
        await client.chat_postMessage(channel="C0SUPPORT", text="Ticket #7")

    task = asyncio.create_task(deliver_later())
    started = time.monotonic()
    found = await standin.wait_for(
        lambda: [m for m in standin.messages("C0SUPPORT") if "#7" in m.text], timeout=3
    )
    assert [m.text for m in found] == ["Ticket #7"]
    assert time.monotonic() - started < 1
    await task


async def test_wait_for_sees_calls_and_their_answers(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    task = asyncio.create_task(client.auth_test())
    call = await standin.wait_for(lambda: next((c for c in standin.calls() if c.ok), None))
    assert call.method == "auth.test"
    await task


async def test_wait_for_times_out(standin: SlackStandIn) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await standin.wait_for(lambda: standin.messages("C0SUPPORT"), timeout=0.1)
    assert time.monotonic() - started < 1


async def test_listeners_and_queues_hear_changes(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    heard: list[Change] = []
    remove = standin.add_listener(heard.append)
    queue = standin.subscribe()
    posted = await client.chat_postMessage(channel="C0SUPPORT", text="one")
    await client.chat_update(channel="C0SUPPORT", ts=posted["ts"], text="two")
    remove()
    await client.chat_postMessage(channel="C0SUPPORT", text="three")
    kinds = [c.kind for c in heard if c.kind != "call"]
    assert kinds == ["message", "message_changed"]
    assert heard[1].as_dict()["channel"] == "C0SUPPORT"
    queued = []
    while not queue.empty():
        queued.append(queue.get_nowait())
    assert [c.kind for c in queued if c.kind != "call"] == ["message", "message_changed", "message"]
    standin.unsubscribe(queue)
    await client.chat_postMessage(channel="C0SUPPORT", text="four")
    assert queue.empty()


async def test_views_changes_are_heard(standin: SlackStandIn, client: AsyncWebClient) -> None:
    queue = standin.subscribe()
    home = {"type": "home", "blocks": []}
    await client.views_publish(user_id="U0ENG1", view=home)
    change = await asyncio.wait_for(_next_not_call(queue), 1)
    assert (change.kind, change.user) == ("home_published", "U0ENG1")
    assert change.view_id == (standin.home("U0ENG1") or pytest.fail("no home")).id


async def _next_not_call(queue: asyncio.Queue[Change]) -> Change:
    while True:
        change = await queue.get()
        if change.kind != "call":
            return change
