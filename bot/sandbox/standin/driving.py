"""The driving half of :class:`~bot.sandbox.standin.SlackStandIn`: act as Slack's users."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.standin.blocks import InputValue
from bot.sandbox.standin.driver import Driver
from bot.sandbox.standin.model import SentRequest, StandInError, StoredMessage
from bot.sandbox.standin.sender import Signing
from bot.sandbox.standin.state import Workspace


class DrivingMixin:
    """Each method sends the app what Slack sends when a person does that, signed."""

    _ws: Workspace
    _driver: Driver

    async def slash_command(
        self,
        *,
        user: str,
        command: str,
        text: str = "",
        channel: str | None = None,
        signing: Signing = "valid",
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SentRequest:
        """``user`` types ``/command text`` in ``channel`` (default: their DM with the bot)."""
        return await self._driver.slash_command(
            user=user,
            command=command,
            text=text,
            channel=channel,
            signing=signing,
            retry_num=retry_num,
            retry_reason=retry_reason,
        )

    async def block_action(
        self,
        *,
        user: str,
        action_id: str,
        value: InputValue = None,
        block_id: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        values: Mapping[str, InputValue] | None = None,
        signing: Signing = "valid",
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SentRequest:
        """``user`` works the element ``action_id`` in a message (channel + message_ts) or a view.

        ``value`` is what a select, date picker or input gets (buttons carry their own value);
        ``values`` are other inputs of the view the user filled in first.
        """
        return await self._driver.block_action(
            user=user,
            action_id=action_id,
            value=value,
            block_id=block_id,
            channel=channel,
            message_ts=message_ts,
            view_id=view_id,
            values=values,
            signing=signing,
            retry_num=retry_num,
            retry_reason=retry_reason,
        )

    async def view_submission(
        self,
        *,
        user: str | None = None,
        view_id: str | None = None,
        values: Mapping[str, InputValue] | None = None,
        signing: Signing = "valid",
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SentRequest:
        """Submit the modal the user sees (or ``view_id``) with ``values`` typed into its inputs.

        Keys of ``values`` name inputs by action_id, block_id or ``block_id.action_id``. The app's
        ack is applied as Slack applies it: close, ``errors``, ``update``, ``push``, ``clear``.
        """
        return await self._driver.view_submission(
            user=user,
            view_id=view_id,
            values=values,
            signing=signing,
            retry_num=retry_num,
            retry_reason=retry_reason,
        )

    async def view_closed(
        self,
        *,
        user: str,
        view_id: str | None = None,
        is_cleared: bool = False,
        signing: Signing = "valid",
    ) -> SentRequest | None:
        """``user`` closes the modal; the app hears of it only when it set ``notify_on_close``."""
        return await self._driver.view_closed(
            user=user, view_id=view_id, is_cleared=is_cleared, signing=signing
        )

    async def message_shortcut(
        self,
        *,
        user: str,
        callback_id: str,
        channel: str,
        message_ts: str,
        signing: Signing = "valid",
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SentRequest:
        """``user`` runs the message shortcut ``callback_id`` on a message."""
        return await self._driver.message_shortcut(
            user=user,
            callback_id=callback_id,
            channel=channel,
            message_ts=message_ts,
            signing=signing,
            retry_num=retry_num,
            retry_reason=retry_reason,
        )

    async def event(
        self,
        event: Mapping[str, Any],
        *,
        signing: Signing = "valid",
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SentRequest:
        """Deliver ``event`` in an ``event_callback`` envelope (fresh event_id)."""
        return await self._driver.event(
            event, signing=signing, retry_num=retry_num, retry_reason=retry_reason
        )

    def post_as_user(
        self, *, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> StoredMessage:
        """Store a message ``user`` wrote (no event is sent)."""
        if user not in self._ws.users:
            raise StandInError(f"unknown user {user!r}")
        channel_id = self._ws.resolve_channel(channel)
        return self._ws.post_message(channel_id, user=user, text=text, thread_ts=thread_ts)

    async def app_mention(
        self, *, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> SentRequest:
        """``user`` writes ``text`` mentioning the bot: stored, then an ``app_mention`` event."""
        mention = f"<@{self._ws.bot_user_id}>"
        if mention not in text:
            text = f"{mention} {text}"
        event = self._driver.message_event_body(
            "app_mention", user=user, channel=channel, text=text, thread_ts=thread_ts
        )
        return await self._driver.event(event)

    async def user_message(
        self, *, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> SentRequest:
        """``user`` writes ``text``: stored, then a ``message`` event."""
        event = self._driver.message_event_body(
            "message", user=user, channel=channel, text=text, thread_ts=thread_ts
        )
        return await self._driver.event(event)

    async def app_home_opened(self, *, user: str) -> SentRequest:
        """``user`` opens the app's Home tab."""
        return await self._driver.event(self._driver.home_opened_body(user))

    async def url_verification(
        self, challenge: str = "stand-in-challenge", *, signing: Signing = "valid"
    ) -> SentRequest:
        return await self._driver.url_verification(challenge, signing=signing)

    async def resend(
        self, sent: SentRequest, *, retry_num: int = 1, retry_reason: str = "http_timeout"
    ) -> SentRequest:
        """Send the same body again, freshly signed, as Slack's retry (same event_id)."""
        return await self._driver.resend(sent, retry_num=retry_num, retry_reason=retry_reason)
