"""Delivery of what use cases owe Slack: :mod:`.worker` (claims and outcomes), :mod:`.sending`
(by kind), :mod:`.pacer` (Slack's posting rate), :mod:`.recovery` (the in-doubt lookup) and
:mod:`.channels` (``#name`` channels resolved at start)."""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.delivery.channels import resolve_channels
from bot.services.delivery.pacer import ChannelPacer, Pacing
from bot.services.delivery.worker import Delivery, DeliverySettings

__all__ = [
    "ChannelPacer",
    "Delivery",
    "DeliverySettings",
    "Pacing",
    "close_client",
    "resolve_channels",
    "retry_handlers",
    "web_client",
]


def retry_handlers() -> list[AsyncRetryHandler]:
    """slack_sdk's own retries of one call: 429 (after Retry-After), 5xx, connection errors."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
    ]


def web_client(token: str, base_url: str, *, timeout: float) -> AsyncWebClient:
    """The bot's Web API client, with :func:`retry_handlers`, over one HTTP session for all its
    calls: connections and DNS answers are kept. Without a session slack_sdk opens one per
    call, so every message paid a new connection (with TLS to Slack, its handshake too);
    docs/benchmarks.md has what it cost. ``timeout`` bounds each call in seconds (the
    session's, as slack_sdk's own ``timeout`` applies only to sessions it opens). Make it
    inside the running loop; whoever makes it closes it (:func:`close_client`) at the end."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=retry_handlers(),
        session=aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)),
    )


async def close_client(client: AsyncWebClient) -> None:
    """Close the HTTP session of a client :func:`web_client` made (and its connections)."""
    if client.session is not None:
        await client.session.close()
