"""Sending one claim to Slack, by kind: the ticket message (posted, or updated with its
pages), a thread line, a DM, the pages due to one person (one message), a channel post.

Each message carries the outbox ids it delivers in its metadata; a claim in doubt (its
process stopped mid-send) is looked for in Slack first (:mod:`.recovery`)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.notices import NoticeKind
from bot.domain.page_settlement import settlement
from bot.domain.tickets import ref_of
from bot.services.context import Context
from bot.services.delivery.recovery import already_posted, metadata
from bot.services.readers import Readers, words_for
from bot.sla.stages import is_reminder, reminder_outdated
from bot.slack import blocks
from bot.slack import paging as blocks_pages
from bot.slack.i18n import Language, Translator, translator
from storage import outbox
from storage import pages as page_store
from storage import tickets as ticket_store
from storage.outbox import Claimed, Notice
from storage.pages import SentPage

log = logging.getLogger(__name__)
SLACK_ERRORS = (SlackApiError, SlackClientError, OSError, TimeoutError)
# How long a DM or a page waits for Slack to tell its reader's language (once a day per
# person); a slower answer sends it in the workspace's language and fills the cache.
ASK_LANGUAGE_WITHIN = 3.0  # seconds


class Undeliverable(Exception):
    """The notice can never be sent as it is (its ticket is gone): set it aside."""


@dataclass(frozen=True)
class Sent:
    """Where a claim's message is: ``ids`` of the claim it delivers (all, unless an earlier
    post in doubt was found delivering only some: the rest go back for a later claim)."""

    channel: str
    ts: str
    ids: frozenset[int]
    extra: dict[str, Any] = field(default_factory=dict)

    def result(self) -> dict[str, Any]:
        return {"channel": self.channel, "ts": self.ts, **self.extra}


# A message that cannot be updated any more: an answered prompt leaves it as it is.
GONE_MESSAGE_ERRORS = frozenset({"message_not_found", "cant_update_message", "channel_not_found"})


class Sender:
    def __init__(self, ctx: Context, client: AsyncWebClient, readers: Readers) -> None:
        self.ctx = ctx
        self.client = client
        self.readers = readers
        self._dm_channels: dict[str, str] = {}
        self._rendered: dict[tuple[str, str], str] = {}  # page message -> what it shows

    async def send(self, claim: Claimed) -> Sent:
        notice = claim.head
        kind = notice.kind
        if kind is NoticeKind.TICKET_MESSAGE:
            return await self._ticket_message(claim)
        if kind is NoticeKind.THREAD:
            return await self._thread_line(claim)
        if kind is NoticeKind.SETTLE:
            return await self._settle(claim)
        if kind is NoticeKind.PAGE:
            return await self._pages(claim)
        if page_store.is_page(kind, notice.payload):
            return await self._managers_page(claim)
        if kind is NoticeKind.DM:
            user = str(notice.payload["user"])
            channel = await self._dm_channel(user)
            payload = await self._as_it_stands(notice)
            words = words_for(payload, await self._language(user))
            return await self._post(claim, channel=channel, **words)
        channel = str(notice.payload.get("channel"))
        return await self._post(
            claim, channel=channel, unfurl_links=False, **words_for(notice.payload, None)
        )

    async def _as_it_stands(self, notice: Notice) -> Mapping[str, Any]:
        """A prompt answered before it went out (Slack refused it for a while) says its
        answer, without the buttons that asked; any other notice as it was owed."""
        prompt = notice.payload.get("prompt")
        if notice.ticket_number is None or prompt is None:
            return notice.payload
        async with self.ctx.db.read() as conn:
            answer = await outbox.answer_to(
                conn, notice.ticket_number, str(prompt), after=notice.id
            )
        return notice.payload if answer is None else answer

    async def _post(
        self, claim: Claimed, *, channel: str, thread_ts: str | None = None, **content: Any
    ) -> Sent:
        """chat.postMessage carrying the claim's outbox ids in the message's metadata. A claim
        in doubt is first looked for in the channel or thread: each notice is posted once."""
        ids = claim.ids
        if any(n.in_doubt for n in claim.notices):
            found = await already_posted(self.client, ids, channel, thread_ts)
            if found is not None:
                log.info("found delivered before", extra={"ticket": claim.head.ticket_number})
                return Sent(found.channel, found.ts, found.ids)
        response = await self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, metadata=metadata(ids), **content
        )
        return Sent(str(response.get("channel")), str(response.get("ts")), frozenset(ids))

    async def _ticket_message(self, claim: Claimed) -> Sent:
        number = claim.head.ticket_number
        if number is None:
            raise Undeliverable("a ticket message without a ticket")
        async with self.ctx.db.read() as conn:
            ticket, location = await ticket_store.ticket_and_location(conn, number)
        if ticket is None:
            raise Undeliverable(f"ticket {number} is gone")
        text = blocks.ticket_fallback_text(ticket)
        schedule = self.ctx.schedule(ticket)
        body = blocks.ticket_message(  # a channel post: the workspace's language
            ticket,
            schedule.listed(),
            self.ctx.clock.now(),
            schedule.provisional_names,
            tr=self.ctx.tr,
        )
        if location is None:
            return await self._post(
                claim,
                channel=ticket.post_channel,
                text=text,
                blocks=body,
                unfurl_links=False,
                unfurl_media=False,
            )
        response = await self.client.chat_update(
            channel=location[0], ts=location[1], text=text, blocks=body
        )
        return Sent(str(response["channel"]), str(response["ts"]), frozenset(claim.ids))

    async def _thread_line(self, claim: Claimed) -> Sent:
        """A line in the ticket's thread. Its conversation's order puts the ticket message
        first; when that was set aside (Slack refused it), the line goes to the channel as a
        plain message naming the ticket."""
        notice = claim.head
        content = words_for(notice.payload, None)
        location = notice.location
        stage = str(notice.payload.get("stage") or "")
        if notice.ticket_number is not None and is_reminder(stage):
            async with self.ctx.db.read() as conn:  # a reminder: still asking, as it stands?
                ticket, location = await ticket_store.ticket_and_location(
                    conn, notice.ticket_number
                )
            if ticket is not None and reminder_outdated(ticket, stage):
                log.info("reminder %s not posted: its step was taken", stage)
                return Sent("", "", frozenset(claim.ids), {"outdated": True})
        elif location is None and notice.ticket_number is not None:
            async with self.ctx.db.read() as conn:
                location = await ticket_store.message_location(conn, notice.ticket_number)
        if location is not None:
            return await self._post(claim, channel=location[0], thread_ts=location[1], **content)
        if notice.post_channel is None or notice.ticket_number is None:
            raise Undeliverable("a thread line without a ticket")
        ref = f"#{notice.ticket_number}"
        text = str(content.get("text") or "")
        content["text"] = text if text.startswith(ref) else f"{ref}: {text}"
        return await self._post(claim, channel=notice.post_channel, **content)

    async def _settle(self, claim: Claimed) -> Sent:
        """Update each message that asked the answered prompt in this round (sent before it:
        a thread's lines go in order). A message Slack no longer has is left alone."""
        notice = claim.head
        if notice.ticket_number is None:
            raise Undeliverable("a settle notice without a ticket")
        async with self.ctx.db.read() as conn:
            asked = await outbox.sent_prompts(
                conn, notice.ticket_number, str(notice.payload.get("prompt")), answer=notice.id
            )
        updated: list[tuple[str, str]] = []
        for channel, ts, reader in asked:  # a DM in its reader's language
            language = await self._language(reader) if reader else None
            try:
                await self.client.chat_update(
                    channel=channel, ts=ts, **words_for(notice.payload, language)
                )
            except SlackApiError as exc:
                if exc.response.get("error") not in GONE_MESSAGE_ERRORS:
                    raise
                continue
            updated.append((channel, ts))
        channel, ts = updated[-1] if updated else ("", "")
        return Sent(channel, ts, frozenset(claim.ids), {"updated": len(updated)})

    async def _pages(self, claim: Claimed) -> Sent:
        """The pages due to one person, as one message naming every ticket."""
        user = str(claim.head.payload["user"])
        channel = await self._dm_channel(user)
        now = self.ctx.clock.now()
        pages = [SentPage(n.ticket_number, n.payload, n.created_at or now) for n in claim.notices]
        text, body, linked = await self._render(pages, await self._language(user))
        sent = await self._post(claim, channel=channel, text=text, blocks=body)
        tickets = sorted({p.number for p in pages if p.number is not None})
        self._rendered[(sent.channel, sent.ts)] = _fingerprint(body)
        return Sent(sent.channel, sent.ts, sent.ids, {"tickets": tickets, "linked": linked})

    async def _managers_page(self, claim: Claimed) -> Sent:
        """A stage's notice in the managers channel (a breach, or a page to them all), as it
        stands now: settled already if its step was taken before it went out."""
        notice = claim.head
        page = SentPage(
            notice.ticket_number, notice.payload, notice.created_at or self.ctx.clock.now()
        )
        text, body, _ = await self._render([page], None)
        channel = str(notice.payload.get("channel"))
        sent = await self._post(claim, channel=channel, text=text, blocks=body, unfurl_links=False)
        self._rendered[(sent.channel, sent.ts)] = _fingerprint(body)
        return sent

    async def _render(
        self, pages: list[SentPage], language: Language | None
    ) -> tuple[str, list[dict[str, Any]], list[int]]:
        """One message of pages as they stand now, in ``language`` (the reader's; None: the
        workspace's): each ticket's Open button linked to its ticket message once posted,
        and a page whose step was taken since it was sent saying so, without its buttons
        (read from the ticket's record: once settled, it stays so). Also which tickets
        were linked."""
        tr = self._translator(language)
        numbers = sorted({p.number for p in pages if p.number is not None})
        since = min((p.paged_at for p in pages), default=self.ctx.clock.now())
        async with self.ctx.db.read() as conn:
            places = {n: await ticket_store.message_location(conn, n) for n in numbers}
            changes = await page_store.changes_since(conn, numbers, since)
        links = await self._links(places)
        rendered: list[tuple[str, list[dict[str, Any]]]] = []
        for number, payload, paged_at in pages:
            words = words_for(payload, language)
            body = list(words.get("blocks") or [])
            if number is not None and number in links:
                body = blocks_pages.with_link(body, links[number])
            done = settlement(payload, paged_at, changes.get(number, [])) if number else None
            if number is not None and done is not None:
                body = blocks_pages.settle(
                    body, number, blocks_pages.settled_note(tr, ref_of(number), done)
                )
            rendered.append((str(words.get("text") or ""), body))
        text, body = blocks_pages.group(tr, rendered)
        return text, body, sorted(links)

    async def _links(self, places: dict[int, tuple[str, str] | None]) -> dict[int, str]:
        """Permalinks of the tickets' messages (those posted), asked of Slack together."""
        posted = [(n, place) for n, place in places.items() if place is not None]

        async def one(place: tuple[str, str]) -> str | None:
            try:
                found = await self.client.chat_getPermalink(channel=place[0], message_ts=place[1])
            except SLACK_ERRORS:
                return None  # the button still works as an action
            link = found.get("permalink")
            return link if isinstance(link, str) else None

        found = await asyncio.gather(*(one(place) for _, place in posted))
        return {n: link for (n, _), link in zip(posted, found, strict=True) if link}

    async def refresh_pages(self, number: int) -> None:
        """Bring the page messages naming ticket ``number`` up to date (chat.update): linked
        to the ticket message, and saying so where the step was taken. Best effort: a
        failure is logged, and the next change of the ticket tries again."""
        try:
            async with self.ctx.db.read() as conn:
                messages = await page_store.page_messages(conn, number)
                contents = [await page_store.pages_in(conn, m) for m in messages]
            for message, pages in zip(messages, contents, strict=True):
                if not pages:
                    continue
                place = (str(message["channel"]), str(message["ts"]))
                reader = pages[0].payload.get("user")
                language = await self._language(str(reader)) if reader else None
                text, body, _ = await self._render(pages, language)
                if self._rendered.get(place) == _fingerprint(body):
                    continue
                await self.client.chat_update(channel=place[0], ts=place[1], text=text, blocks=body)
                self._rendered[place] = _fingerprint(body)
        except SLACK_ERRORS as error:
            log.warning("page not updated: %s", error, extra={"ticket": number})

    async def _language(self, user: str) -> Language | None:
        """The language ``user`` reads in Slack (None: not known, the workspace's)."""
        return await self.readers.language(self.client, user, within=ASK_LANGUAGE_WITHIN)

    def _translator(self, language: Language | None) -> Translator:
        if language is None:
            return self.ctx.tr
        return translator(language, self.ctx.config.tz)

    async def _dm_channel(self, user: str) -> str:
        """The bot's DM channel with ``user`` (stable, so asked of Slack once per user)."""
        channel = self._dm_channels.get(user)
        if channel is None:
            opened = await self.client.conversations_open(users=user)
            channel = str(opened["channel"]["id"])
            self._dm_channels[user] = channel
        return channel


def _fingerprint(body: list[dict[str, Any]]) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False)
