"""Posts signed request bodies to the app, as Slack does, and returns what it answered; or, to
an app connected in Socket Mode, sends them as envelopes on its socket."""

from __future__ import annotations

import json
import time
from typing import Literal

import aiohttp

from bot.sandbox.standin.app_requests import signed_headers
from bot.sandbox.standin.model import JsonDict, SentRequest, StandInError
from bot.sandbox.standin.socket_mode import SocketMode

# How a request is signed: correctly, with a wrong secret, with a stale timestamp, or not at all.
Signing = Literal["valid", "wrong_secret", "old_timestamp", "unsigned"]
STALE_SECONDS = 600


class Sender:
    """Signs and posts request bodies to the app; remembers nothing but its HTTP session."""

    def __init__(
        self, *, signing_secret: str, timeout: float, socket_mode: SocketMode | None = None
    ) -> None:
        self.signing_secret = signing_secret
        self.socket_mode = socket_mode
        self.events_url: str | None = None
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def signed_headers(self, body: str, signing: Signing) -> dict[str, str]:
        if signing == "unsigned":
            return {}
        stamp = int(time.time()) - (STALE_SECONDS if signing == "old_timestamp" else 0)
        secret = self.signing_secret if signing != "wrong_secret" else self.signing_secret + "x"
        return signed_headers(secret, body, timestamp=stamp)

    async def send(
        self,
        body: str,
        *,
        content_type: str,
        payload: JsonDict,
        signing: Signing = "valid",
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SentRequest:
        if self.socket_mode is not None:
            if signing != "valid":
                raise StandInError("Socket Mode requests are not signed")
            ack = await self.socket_mode.request(
                payload, retry_attempt=retry_num, retry_reason=retry_reason
            )
            answer = "" if ack is None else json.dumps(ack)
            return SentRequest(
                status=200,
                body=answer,
                headers={"Content-Type": "application/json"} if answer else {},
                payload=payload,
                raw_body=body,
                content_type=content_type,
            )
        if self.events_url is None:
            raise StandInError("bot_events_url is not set: where should the request go?")
        headers = {"Content-Type": content_type, **self.signed_headers(body, signing)}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        async with self._session.post(
            self.events_url, data=body.encode(), headers=headers
        ) as response:
            text = await response.text()
            return SentRequest(
                status=response.status,
                body=text,
                headers=dict(response.headers),
                payload=payload,
                raw_body=body,
                content_type=content_type,
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
