"""The language each person reads (SPEC §9): what only they see (ephemeral answers, their
Home tab, forms they open) follows their own Slack language when Slack tells it
(``users.info`` with ``include_locale``), cached for a day; otherwise the workspace's."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.services.context import Context
from bot.slack.i18n import Language, Translator, language_of_slack_locale, translator

log = logging.getLogger(__name__)

KEEP = timedelta(days=1)  # how long a person's language is trusted before asking again
KEEP_UNKNOWN = timedelta(hours=1)  # after Slack did not answer: the workspace's until then
# How long an answer waits for Slack to tell a person's language; a slower answer comes in
# the workspace's language while the lookup goes on and fills the cache for next time.
ASK_WITHIN = 0.5  # seconds


class Readers:
    """Each person's language, asked of Slack once a day."""

    def __init__(
        self, ctx: Context, *, keep: timedelta = KEEP, ask_within: float = ASK_WITHIN
    ) -> None:
        self._ctx = ctx
        self._keep = keep
        self._ask_within = ask_within
        self._known: dict[str, tuple[Language | None, datetime]] = {}
        self._asking: dict[str, asyncio.Task[Language | None]] = {}

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

    async def language(self, client: AsyncWebClient, user_id: str) -> Language | None:
        """The person's own language, None when Slack does not say or the bot does not
        speak it."""
        known = self._known.get(user_id)
        if known is not None and known[1] > self._ctx.clock.now():
            return known[0]
        asking = self._asking.get(user_id)
        if asking is None:
            asking = asyncio.ensure_future(self._ask(client, user_id))
            self._asking[user_id] = asking
            asking.add_done_callback(lambda _: self._asking.pop(user_id, None))
        done, _ = await asyncio.wait({asking}, timeout=self._ask_within)
        return asking.result() if asking in done else None

    async def _ask(self, client: AsyncWebClient, user_id: str) -> Language | None:
        try:
            answer = await client.users_info(user=user_id, include_locale=True)
        except Exception as error:  # Slack down, slow, or refusing: the workspace's language
            log.warning("users.info failed: %s", error, extra={"user": user_id})
            self._known[user_id] = (None, self._ctx.clock.now() + KEEP_UNKNOWN)
            return None
        user = answer.get("user") or {}
        language = language_of_slack_locale(user.get("locale"))
        self._known[user_id] = (language, self._ctx.clock.now() + self._keep)
        return language
