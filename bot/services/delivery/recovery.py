"""The in-doubt lookup: a notice a stopped process may have posted is looked for in Slack
(by the outbox ids its message carries in its metadata) before it is posted again."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

NOTICE_EVENT = "escalator_notice"  # message metadata: which outbox rows a message delivers
HISTORY_PAGES = 10  # pages of 200 messages read to find a notice in doubt
CONVERSATION_IDS = ("C", "G", "D")  # what history can be read by (not a #name)


def metadata(ids: Collection[int]) -> dict[str, Any]:
    """The metadata a message delivering outbox rows ``ids`` carries."""
    ordered = sorted(ids)
    return {"event_type": NOTICE_EVENT, "event_payload": {"notice": ordered[0], "notices": ordered}}


def delivered_ids(message: dict[str, Any]) -> set[int]:
    """The outbox ids a message says it delivers (none for other messages)."""
    data = message.get("metadata") or {}
    if data.get("event_type") != NOTICE_EVENT:
        return set()
    payload = data.get("event_payload") or {}
    found = {payload.get("notice"), *(payload.get("notices") or [])}
    return {i for i in found if isinstance(i, int)}


@dataclass(frozen=True)
class Found:
    channel: str
    ts: str
    ids: frozenset[int]  # which of the ids looked for the message delivers


async def already_posted(
    client: AsyncWebClient, ids: Collection[int], channel: str, thread_ts: str | None
) -> Found | None:
    """The message that delivers any of ``ids``, if Slack has it: read the thread, or the
    channel's latest history, page by page (newest first). None also when Slack cannot tell
    (the notice is then posted: at least once rather than never)."""
    wanted = set(ids)
    message = await find_message(
        client, channel, lambda m: bool(delivered_ids(m) & wanted), thread_ts=thread_ts
    )
    if message is None:
        return None
    return Found(channel, str(message.get("ts")), frozenset(delivered_ids(message) & wanted))


async def find_message(
    client: AsyncWebClient,
    channel: str,
    match: Callable[[dict[str, Any]], bool],
    *,
    thread_ts: str | None = None,
) -> dict[str, Any] | None:
    """The newest message of the thread, or of the channel's latest history (with its
    metadata), that ``match``es, read page by page; None also when Slack cannot tell."""
    if channel[:1] not in CONVERSATION_IDS:
        return None
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        try:
            if thread_ts is not None:
                page = await client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            else:
                page = await client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=200, cursor=cursor
                )
        except (SlackApiError, SlackClientError, OSError, TimeoutError):
            return None
        for message in page.get("messages") or []:
            if match(message):
                return dict(message)
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not page.get("has_more") or not cursor:
            return None
    return None
