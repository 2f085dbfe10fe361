"""Fault injection: server errors, rate limits with Retry-After, hangs."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn

from .conftest import BOT_TOKEN


async def test_http_500_for_the_next_call_only(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    standin.fail("chat.postMessage")
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0SUPPORT", text="first")
    assert info.value.response.status_code == 500
    assert standin.messages("C0SUPPORT") == []
    assert (await client.chat_postMessage(channel="C0SUPPORT", text="second"))["ok"]
    assert [m.text for m in standin.messages("C0SUPPORT")] == ["second"]
    assert [c.fault for c in standin.calls("chat.postMessage")] == ["http_500", None]
    assert standin.faults == []


async def test_faults_until_cleared_and_other_methods_unaffected(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    standin.fail("*", status=503, times=None)
    for _ in range(3):
        with pytest.raises(SlackApiError):
            await client.auth_test()
    standin.clear_faults()
    assert (await client.auth_test())["ok"]
    standin.fail("views.open", times=2)
    assert (await client.auth_test())["ok"]
    assert standin.faults[0].remaining == 2


async def test_429_retry_after_is_honoured_by_slack_sdk(
    standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "random", lambda: 0.0)  # the handler's jitter
    client = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=standin.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    standin.rate_limit("chat.postMessage", retry_after=1)
    started = time.monotonic()
    resp = await client.chat_postMessage(channel="C0SUPPORT", text="after the wait")
    assert resp["ok"]
    assert time.monotonic() - started >= 1.0
    first, second = standin.calls("chat.postMessage")
    assert (first.status, first.fault, first.response) == (
        429,
        "http_429_retry_after_1",
        {"ok": False, "error": "ratelimited"},
    )
    assert second.time - first.time >= 1.0
    assert [m.text for m in standin.messages("C0SUPPORT")] == ["after the wait"]


async def test_429_without_retry_handler_surfaces(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    standin.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0SUPPORT", text="x")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] in ("7", ["7"])


async def test_hang_times_out_the_client(standin: SlackStandIn) -> None:
    impatient = AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url, timeout=0.2)  # type: ignore[arg-type]
    standin.hang("chat.postMessage", 30)
    started = time.monotonic()
    with pytest.raises((asyncio.TimeoutError, TimeoutError)):
        await impatient.chat_postMessage(channel="C0SUPPORT", text="slow")
    assert time.monotonic() - started < 2
    assert standin.calls("chat.postMessage")[0].fault == "hang_30s"


async def test_short_hang_then_answers(standin: SlackStandIn, client: AsyncWebClient) -> None:
    standin.hang("auth.test", 0.3)
    started = time.monotonic()
    assert (await client.auth_test())["ok"]
    assert time.monotonic() - started >= 0.3


async def test_a_refusal_answers_ok_false_for_one_channel_only(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    standin.refuse("chat.postMessage", "is_archived", channel="C0SUPPORT")
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0SUPPORT", text="refused")
    assert info.value.response.status_code == 200
    assert info.value.response["error"] == "is_archived"
    assert (await client.chat_postMessage(channel="C0MANAGERS", text="fine"))["ok"]
    assert standin.messages("C0SUPPORT") == []
    assert [c.fault for c in standin.calls("chat.postMessage")] == ["refused_is_archived", None]


async def test_a_held_call_whose_caller_went_away_is_dropped(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    standin.hang("chat.postMessage", 0.5, drop_if_gone=True)
    impatient = AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url, timeout=0.1)
    with pytest.raises(asyncio.TimeoutError):
        await impatient.chat_postMessage(channel="C0SUPPORT", text="never done")
    call = standin.calls("chat.postMessage")[0]
    for _ in range(200):  # the hold ends after 0.5 s
        if (call.fault or "").endswith("_dropped"):
            break
        await asyncio.sleep(0.05)
    assert call.fault == "hang_0.5s_dropped"
    assert standin.messages("C0SUPPORT") == []  # not done: as if Slack never took it
