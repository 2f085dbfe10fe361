"""The language each person reads (SPEC §3 ``language``, §9): what only they see (ephemeral
answers, their Home tab, forms they open, their DMs and pages) follows their own Slack
language when Slack tells it (``users.info`` with ``include_locale``), cached for a day;
otherwise the workspace's. Channel posts follow the workspace's.

A DM or a page is owed inside a use case's transaction and sent later by the delivery
worker. Its words are made when it is owed, in every language the bot speaks
(:func:`to_one`); the worker sends its reader's, asked of Slack when it is sent. Why so:

- not the reader's language looked up when it is owed: that asks Slack inside the use
  case's transaction, or reads a cache that is cold for the person paged for the first
  time, the case that matters most;
- not the notice's kind and parameters stored and rendered when sent: what a notice says
  belongs to the moment it is owed (the change just made, the ticket as that change left
  it, the stage that fell due, its time left); rendered later from the ticket as it is then,
  a page or a sign-off request could say what is no longer what happened, and each kind
  would need a stored form of its builder's inputs.

The bot speaks a closed set of languages (:class:`Language`, two), so making each is cheap
and exact; the workspace's words are the notice's own ``text``/``blocks`` (read when the
reader's language is not known, and all a notice owed before this has), the others are under
``words``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Config
from bot.services.context import Context
from bot.slack.blocks import Block
from bot.slack.i18n import Language, Translator, language_of_slack_locale, translator
from bot.slack.ticket_card import Notice

log = logging.getLogger(__name__)

KEEP = timedelta(days=1)  # how long a person's language is trusted before asking again
KEEP_UNKNOWN = timedelta(hours=1)  # after Slack did not answer: the workspace's until then
# How long an answer waits for Slack to tell a person's language; a slower answer comes in
# the workspace's language while the lookup goes on and fills the cache for next time.
ASK_WITHIN = 0.5  # seconds
NAMES_AT_MOST = 20  # people a message mentions whose names are asked (Slack's rate limit)
WARM_WITHIN = 5.0  # seconds each at start (Readers.warm): nobody is waiting for these


class Readers:
    """Each person's language, asked of Slack once a day; at start, of the people the config
    names (:meth:`warm`, :func:`paged_people`), so pages to them never wait to ask."""

    def __init__(
        self, ctx: Context, *, keep: timedelta = KEEP, ask_within: float = ASK_WITHIN
    ) -> None:
        self._ctx = ctx
        self._keep = keep
        self._ask_within = ask_within
        self._known: dict[str, tuple[Language | None, datetime]] = {}
        self._asking: dict[str, asyncio.Task[Language | None]] = {}
        self._names: dict[str, str] = {}  # the name Slack shows of each person asked

    @property
    def workspace(self) -> Translator:
        return self._ctx.tr

    async def of(self, client: AsyncWebClient, user_id: str) -> Translator:
        """The translator for what ``user_id`` alone reads."""
        language = await self.language(client, user_id)
        if language is None:
            return self.workspace
        return translator(language, self._ctx.config.tz)

    def known(self, user_id: str) -> Translator:
        """The person's language as last heard (the workspace's when not asked yet), without
        asking Slack: for an answer that cannot wait."""
        found = self._known.get(user_id)
        if found is None or found[0] is None:
            return self.workspace
        return translator(found[0], self._ctx.config.tz)

    async def language(
        self, client: AsyncWebClient, user_id: str, *, within: float | None = None
    ) -> Language | None:
        """The person's own language, None when Slack does not say or the bot does not
        speak it, or does not answer ``within`` seconds (the answer still fills the cache)."""
        known = self._known.get(user_id)
        if known is not None and known[1] > self._ctx.clock.now():
            return known[0]
        asking = self._asking.get(user_id)
        if asking is None:
            asking = asyncio.ensure_future(self._ask(client, user_id))
            self._asking[user_id] = asking
            asking.add_done_callback(lambda _: self._asking.pop(user_id, None))
        wait = self._ask_within if within is None else within
        done, _ = await asyncio.wait({asking}, timeout=wait)
        return asking.result() if asking in done else None

    async def names(self, client: AsyncWebClient, user_ids: Iterable[str]) -> dict[str, str]:
        """The names Slack shows of ``user_ids`` (the people a message mentions by id), asked
        with their language (together, at most ``ask_within`` seconds; the first
        ``NAMES_AT_MOST``); those Slack does not tell in time are left out."""
        wanted = list(dict.fromkeys(user_ids))[:NAMES_AT_MOST]
        await asyncio.gather(*(self.language(client, user_id) for user_id in wanted))
        return {u: self._names[u] for u in wanted if u in self._names}

    async def warm(self, client: AsyncWebClient, user_ids: Iterable[str]) -> int:
        """Ask Slack the language of ``user_ids`` one after the other (each at most
        ``WARM_WITHIN`` seconds), so that the first page or DM to each of them does not wait
        for ``users.info``; the number of people whose language is known after it."""
        found = 0
        for user_id in dict.fromkeys(user_ids):
            found += await self.language(client, user_id, within=WARM_WITHIN) is not None
        return found

    async def _ask(self, client: AsyncWebClient, user_id: str) -> Language | None:
        try:
            answer = await client.users_info(user=user_id, include_locale=True)
        except Exception as error:  # Slack down, slow, or refusing: the workspace's language
            log.warning("users.info failed: %s", error, extra={"user": user_id})
            self._known[user_id] = (None, self._ctx.clock.now() + KEEP_UNKNOWN)
            return None
        user = answer.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("name")
        if isinstance(name, str) and name:
            self._names[user_id] = name
        language = language_of_slack_locale(user.get("locale"))
        self._known[user_id] = (language, self._ctx.clock.now() + self._keep)
        return language


def paged_people(config: Config) -> list[str]:
    """The people pages and DMs go to most, as the config names them: on call, engineers,
    managers, and the customers' plan owners and contacts."""
    named = [*config.oncall.primary, *config.oncall.secondary, *config.roles.engineers]
    named += config.roles.managers
    for customer in config.customers:
        named += [*([customer.owner] if customer.owner else []), *customer.contacts]
    return list(dict.fromkeys(named))


# What a notice to one person says: its text, or its text and blocks.
Said = str | tuple[str, list[Block]] | Notice


def to_one(config: Config, say: Callable[[Translator], Said]) -> dict[str, Any]:
    """The words of a DM or a page, for its payload: ``text`` (and ``blocks``) in the
    workspace's language, and under ``words`` the same in each other language the bot
    speaks; the delivery sends its reader's (:func:`words_for`)."""
    own, *others = sorted(Language, key=lambda language: language != config.language)
    payload = _content(say(translator(own, config.tz)))
    payload["words"] = {
        language.value: _content(say(translator(language, config.tz))) for language in others
    }
    return payload


def words_for(payload: Mapping[str, Any], language: Language | None) -> dict[str, Any]:
    """What a notice to one person says in ``language``: ``text`` and, if any, ``blocks``
    (the workspace's words when it has none in that language)."""
    words = payload.get("words")
    found = words.get(language.value) if isinstance(words, dict) and language else None
    source = found if isinstance(found, dict) else payload
    content: dict[str, Any] = {"text": source.get("text")}
    if source.get("blocks"):
        content["blocks"] = source["blocks"]
    return content


def _content(said: Said) -> dict[str, Any]:
    if isinstance(said, str):
        return {"text": said}
    text, blocks = (said.text, said.blocks) if isinstance(said, Notice) else said
    return {"text": text, "blocks": blocks}
