"""Delivery of what use cases owe Slack: :mod:`.worker` (claims and outcomes), :mod:`.sending`
(by kind), :mod:`.pacer` (Slack's posting rate), :mod:`.recovery` (the in-doubt lookup) and
:mod:`.channels` (``#name`` channels resolved at start)."""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)

from bot.services.delivery.channels import resolve_channels
from bot.services.delivery.pacer import ChannelPacer, Pacing
from bot.services.delivery.worker import Delivery, DeliverySettings

__all__ = [
    "ChannelPacer",
    "Delivery",
    "DeliverySettings",
    "Pacing",
    "resolve_channels",
    "retry_handlers",
]


def retry_handlers() -> list[AsyncRetryHandler]:
    """slack_sdk's own retries of one call: 429 (after Retry-After), 5xx, connection errors."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
    ]
