"""A real Bolt app, served by aiohttp, works against the stand-in over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import Signing, SlackStandIn

from .conftest import BOT_TOKEN, SIGNING_SECRET

REPORT_VIEW = {
    "type": "modal",
    "callback_id": "report",
    "title": {"type": "plain_text", "text": "Report a problem"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "Summary"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


def tiny_app(standin: SlackStandIn) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url),
        signing_secret=SIGNING_SECRET,
    )

    @app.command("/report")
    async def report(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=REPORT_VIEW)

    @app.view("report")
    async def submit(ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient) -> None:
        summary = view["state"]["values"]["summary"]["value"]["value"] or ""
        if len(summary) < 5:
            await ack(response_action="errors", errors={"summary": "Say a little more"})
            return
        await ack()
        await client.chat_postMessage(channel="C0SUPPORT", text=f"New ticket: {summary}")

    return app


@pytest.fixture
async def bolt_url(standin: SlackStandIn) -> AsyncIterator[str]:
    app = tiny_app(standin)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    standin.bot_events_url = f"http://{host}:{port}/slack/events"
    yield standin.bot_events_url
    await runner.cleanup()


async def test_command_modal_errors_then_ticket(standin: SlackStandIn, bolt_url: str) -> None:
    sent = await standin.slash_command(user="U0REP1", command="/report", channel="#support")
    assert sent.status == 200
    modal = await standin.wait_for(lambda: standin.modal("U0REP1"))
    assert modal.callback_id == "report"
    assert standin.calls("auth.test")[0].ok  # Bolt checked its token against the stand-in

    refused = await standin.view_submission(user="U0REP1", values={"summary": "hmm"})
    assert refused.status == 200
    assert refused.json == {"response_action": "errors", "errors": {"summary": "Say a little more"}}
    still = standin.modal("U0REP1")
    assert still is not None and still.errors == {"summary": "Say a little more"}

    accepted = await standin.view_submission(user="U0REP1", values={"summary": "Printer on fire"})
    assert accepted.status == 200
    assert standin.modal("U0REP1") is None
    posted = await standin.wait_for(lambda: standin.messages("C0SUPPORT"))
    assert [m.text for m in posted] == ["New ticket: Printer on fire"]


async def test_bad_signature_gets_401_and_changes_nothing(
    standin: SlackStandIn, bolt_url: str
) -> None:
    bad: tuple[Signing, ...] = ("wrong_secret", "old_timestamp", "unsigned")
    for signing in bad:
        sent = await standin.slash_command(user="U0REP1", command="/report", signing=signing)
        assert sent.status == 401, signing
    assert standin.calls("views.open") == []
    assert standin.modal("U0REP1") is None
