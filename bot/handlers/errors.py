"""What a listener raises and Bolt catches: logged with its traceback and answered 500, as
Bolt does by itself, except Slack's retry of a request that opened a form.

A slash command or a button that opens a form (a modal) uses the request's trigger. Slack's
retry of the request carries the same trigger, which Slack has taken already
(``exchanged_trigger_id``): the form is open, nothing is left to do, and the retry is
answered 200 with nothing logged as an error (SPEC §8: a retry changes nothing)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

TAKEN_TRIGGER = "exchanged_trigger_id"


def register(app: AsyncApp) -> None:
    @app.error
    async def listener_failed(error: Exception) -> BoltResponse | None:
        if isinstance(error, SlackApiError) and error.response.get("error") == TAKEN_TRIGGER:
            log.info("a retried request's form is open already (its trigger was taken)")
            return BoltResponse(status=200, body="")
        log.exception("Failed to run listener function (error: %s)", error, exc_info=error)
        return None
