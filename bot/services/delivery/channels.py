"""``#name`` channels from the config, resolved to ids at start (``conversations.list``):
history, and so the in-doubt lookup, is read by id; a report carries its channel's id (a
customer's channel matches by it); files are uploaded to a channel by id."""

from __future__ import annotations

import dataclasses
import logging

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Config
from bot.services.delivery.recovery import CONVERSATION_IDS

log = logging.getLogger(__name__)
MAX_PAGES = 50  # of 1000 channels each


def _is_id(channel: str) -> bool:
    return channel[:1] in CONVERSATION_IDS and channel[1:].isalnum() and channel.isupper()


async def channel_ids(client: AsyncWebClient, names: set[str]) -> dict[str, str]:
    """The ids of the channels named (``#support`` or ``support``), archived ones included."""
    wanted = {name.removeprefix("#"): name for name in names}
    found: dict[str, str] = {}
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await client.conversations_list(
            types="public_channel,private_channel",
            exclude_archived=False,
            limit=1000,
            cursor=cursor,
        )
        for channel in page.get("channels") or []:
            name = channel.get("name")
            if name in wanted:
                found[wanted[name]] = str(channel["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor or len(found) == len(wanted):
            break
    return found


async def resolve_channels(client: AsyncWebClient, config: Config) -> Config:
    """The config with its channels as ids: support, managers, the month's review's and each
    customer's (a report carries its channel's id, and Slack uploads files by id). A name
    Slack does not know, or a lookup that fails, is kept as it is (and logged): posting by
    name still works."""
    channels = config.channels
    named = [channels.support, channels.managers, config.report.channel]
    named += [customer.channel for customer in config.customers]
    names = {c for c in named if not _is_id(c)}
    if not names:
        return config
    try:
        ids = await channel_ids(client, names)
    except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
        log.warning("channel names not resolved (%s): %s", ", ".join(sorted(names)), error)
        return config
    for name in sorted(names - set(ids)):
        log.warning("channel %s not found by conversations.list; posting to it by name", name)
    resolved = dataclasses.replace(
        channels,
        support=ids.get(channels.support, channels.support),
        managers=ids.get(channels.managers, channels.managers),
    )
    log.info("channels: support=%s managers=%s", resolved.support, resolved.managers)
    report = dataclasses.replace(
        config.report, channel=ids.get(config.report.channel, config.report.channel)
    )
    customers = tuple(
        dataclasses.replace(customer, channel=ids.get(customer.channel, customer.channel))
        for customer in config.customers
    )
    return dataclasses.replace(config, channels=resolved, report=report, customers=customers)
