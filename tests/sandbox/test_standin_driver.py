"""Signed requests the stand-in sends to the bot, and what it does with the bot's answers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn, StandInError

from .conftest import SIGNING_SECRET, FakeBot, Received

SUBMITTABLE = {
    "type": "modal",
    "callback_id": "report",
    "private_metadata": "channel=C0SUPPORT",
    "title": {"type": "plain_text", "text": "Report a problem"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "Summary"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "system",
            "label": {"type": "plain_text", "text": "System"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [
                    {"text": {"type": "plain_text", "text": "Billing"}, "value": "billing"},
                    {"text": {"type": "plain_text", "text": "Gateway"}, "value": "gateway"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "checks",
            "optional": True,
            "label": {"type": "plain_text", "text": "Checks"},
            "element": {
                "type": "checkboxes",
                "action_id": "done",
                "options": [
                    {"text": {"type": "plain_text", "text": "Backed up"}, "value": "backup"},
                    {"text": {"type": "plain_text", "text": "Tested"}, "value": "tested"},
                ],
            },
        },
    ],
}

BUTTONS = [
    {
        "type": "actions",
        "block_id": "ticket-1",
        "elements": [
            {
                "type": "button",
                "action_id": "ack",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "value": "1",
            }
        ],
    }
]


def payload_of(got: Received) -> dict[str, Any]:
    return dict(json.loads(parse_qs(got.body)["payload"][0]))


def verifies(got: Received, secret: str = SIGNING_SECRET) -> bool:
    return SignatureVerifier(secret).is_valid_request(got.body, got.headers)


async def open_modal(standin: SlackStandIn, client: AsyncWebClient, user: str, view: Any) -> str:
    resp = await client.views_open(trigger_id=standin.issue_trigger(user), view=view)
    return str(resp["view"]["id"])


async def test_slash_command_is_signed_and_shaped(
    standin: SlackStandIn, fake_bot: FakeBot, client: AsyncWebClient
) -> None:
    sent = await standin.slash_command(
        user="U0REP1", command="/report", text="printer", channel="#support"
    )
    assert sent.status == 200
    [got] = fake_bot.received
    assert verifies(got)
    assert not verifies(got, "another-secret")
    assert got.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(got.body).items()}
    assert form["command"] == "/report"
    assert form["text"] == "printer"
    assert (form["user_id"], form["user_name"]) == ("U0REP1", "rita")
    assert (form["channel_id"], form["channel_name"]) == ("C0SUPPORT", "support")
    assert form["team_id"] == "T0ESCAL"
    assert form["api_app_id"] == "A0ESCAL"
    assert form["response_url"].startswith(standin.base_url + "response/")
    # the trigger_id it carries is one the stand-in accepts
    opened = await client.views_open(trigger_id=form["trigger_id"], view=SUBMITTABLE)
    assert opened["ok"]


async def test_bad_signatures_do_not_verify(standin: SlackStandIn, fake_bot: FakeBot) -> None:
    await standin.slash_command(user="U0REP1", command="/report", signing="wrong_secret")
    await standin.slash_command(user="U0REP1", command="/report", signing="old_timestamp")
    await standin.slash_command(user="U0REP1", command="/report", signing="unsigned")
    assert [verifies(got) for got in fake_bot.received] == [False, False, False]
    stale = fake_bot.received[1]
    # signed with the right secret, only too old: the HMAC itself matches
    expected = SignatureVerifier(SIGNING_SECRET).generate_signature(
        timestamp=stale.headers["X-Slack-Request-Timestamp"], body=stale.body
    )
    assert stale.headers["X-Slack-Signature"] == expected


async def test_retry_headers_and_resend(standin: SlackStandIn, fake_bot: FakeBot) -> None:
    first = await standin.app_home_opened(user="U0ENG1")
    again = await standin.resend(first, retry_num=2, retry_reason="http_error")
    original, retried = fake_bot.received
    assert "X-Slack-Retry-Num" not in original.headers
    assert retried.headers["X-Slack-Retry-Num"] == "2"
    assert retried.headers["X-Slack-Retry-Reason"] == "http_error"
    assert json.loads(retried.body)["event_id"] == json.loads(original.body)["event_id"]
    assert verifies(retried)
    assert again.payload == first.payload


async def test_command_ack_with_text_becomes_an_ephemeral(
    standin: SlackStandIn, fake_bot: FakeBot
) -> None:
    fake_bot.reply = lambda _: web.json_response({"text": "Unknown ticket #99"})
    await standin.slash_command(
        user="U0ENG1", command="/ticket", text="ack 99", channel="C0SUPPORT"
    )
    [eph] = standin.ephemerals("U0ENG1")
    assert (eph.text, eph.channel) == ("Unknown ticket #99", "C0SUPPORT")


async def post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as resp:
        return resp.status, await resp.json()


async def test_response_url_ephemeral_and_in_channel(
    standin: SlackStandIn, fake_bot: FakeBot
) -> None:
    await standin.slash_command(user="U0REP1", command="/ticket", text="list", channel="C0SUPPORT")
    url = parse_qs(fake_bot.received[0].body)["response_url"][0]
    assert await post(url, {"text": "just for you"}) == (200, {"ok": True})
    assert await post(url, {"text": "for all", "response_type": "in_channel"}) == (
        200,
        {"ok": True},
    )
    assert [e.text for e in standin.ephemerals("U0REP1")] == ["just for you"]
    assert [m.text for m in standin.messages("C0SUPPORT")] == ["for all"]
    assert [r.body["text"] for r in standin.responses()] == ["just for you", "for all"]
    for _ in range(3):
        await post(url, {"text": "more"})
    assert (await post(url, {"text": "sixth"}))[0] == 404
    assert (await post(standin.base_url + "response/nope", {"text": "x"}))[0] == 404


async def test_block_action_on_a_message_and_replace_original(
    standin: SlackStandIn, fake_bot: FakeBot, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="C0SUPPORT", text="Ticket #1", blocks=BUTTONS)
    await standin.block_action(
        user="U0ENG1", action_id="ack", channel="C0SUPPORT", message_ts=posted["ts"]
    )
    [got] = fake_bot.received
    assert verifies(got)
    payload = payload_of(got)
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U0ENG1"
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": "C0SUPPORT",
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": "C0SUPPORT", "name": "support"}
    assert payload["message"]["ts"] == posted["ts"]
    [act] = payload["actions"]
    assert (act["type"], act["action_id"], act["block_id"], act["value"]) == (
        "button",
        "ack",
        "ticket-1",
        "1",
    )
    assert payload["trigger_id"]
    status, _ = await post(
        payload["response_url"], {"replace_original": True, "text": "Ticket #1 (acked)"}
    )
    assert status == 200
    assert standin.messages("C0SUPPORT")[0].text == "Ticket #1 (acked)"
    await post(payload["response_url"], {"delete_original": True})
    assert standin.messages("C0SUPPORT") == []
    with pytest.raises(StandInError):
        await standin.block_action(
            user="U0ENG1", action_id="nope", channel="C0SUPPORT", message_ts=posted["ts"]
        )


async def test_block_action_in_a_modal_carries_the_view(
    standin: SlackStandIn, fake_bot: FakeBot, client: AsyncWebClient
) -> None:
    view = dict(SUBMITTABLE)
    view["blocks"] = [
        *SUBMITTABLE["blocks"],
        {
            "type": "actions",
            "block_id": "nav",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "cls",
                    "options": [{"text": {"type": "plain_text", "text": "Class A"}, "value": "A"}],
                }
            ],
        },
    ]
    view_id = await open_modal(standin, client, "U0REP1", view)
    await standin.block_action(
        user="U0REP1", action_id="cls", value="A", view_id=view_id, values={"summary": "Down"}
    )
    payload = payload_of(fake_bot.received[0])
    assert payload["container"] == {"type": "view", "view_id": view_id}
    assert payload["view"]["id"] == view_id
    assert payload["view"]["state"]["values"]["summary"]["value"] == {
        "type": "plain_text_input",
        "value": "Down",
    }
    [act] = payload["actions"]
    assert act["type"] == "static_select"
    assert act["selected_option"]["value"] == "A"
    assert "response_url" not in payload


async def test_view_submission_payload_and_errors_ack(
    standin: SlackStandIn, fake_bot: FakeBot, client: AsyncWebClient
) -> None:
    view_id = await open_modal(standin, client, "U0REP1", SUBMITTABLE)
    fake_bot.reply = lambda _: web.json_response(
        {"response_action": "errors", "errors": {"summary": "Too short"}}
    )
    sent = await standin.view_submission(
        user="U0REP1",
        values={"summary": "x", "system": "gateway", "checks.done": ["backup", "tested"]},
    )
    assert sent.json == {"response_action": "errors", "errors": {"summary": "Too short"}}
    payload = payload_of(fake_bot.received[0])
    assert payload["type"] == "view_submission"
    view = payload["view"]
    assert (view["id"], view["callback_id"], view["private_metadata"]) == (
        view_id,
        "report",
        "channel=C0SUPPORT",
    )
    assert view["hash"] == standin.views[view_id].hash
    values = view["state"]["values"]
    assert values["summary"]["value"] == {"type": "plain_text_input", "value": "x"}
    assert values["system"]["pick"]["selected_option"]["value"] == "gateway"
    assert [o["value"] for o in values["checks"]["done"]["selected_options"]] == [
        "backup",
        "tested",
    ]
    modal = standin.modal("U0REP1")
    assert modal is not None and modal.errors == {"summary": "Too short"}
    with pytest.raises(StandInError):
        await standin.view_submission(user="U0REP1", values={"no_such_input": "x"})


async def test_view_submission_acks_update_push_clear_close(
    standin: SlackStandIn, fake_bot: FakeBot, client: AsyncWebClient
) -> None:
    view_id = await open_modal(standin, client, "U0REP1", SUBMITTABLE)
    second = {**SUBMITTABLE, "title": {"type": "plain_text", "text": "Step 2"}}
    fake_bot.reply = lambda _: web.json_response({"response_action": "update", "view": second})
    await standin.view_submission(user="U0REP1", values={"summary": "Printer", "system": "billing"})
    top = standin.modal("U0REP1")
    assert top is not None and top.id == view_id and top.view["title"]["text"] == "Step 2"
    fake_bot.reply = lambda _: web.json_response({"response_action": "push", "view": second})
    await standin.view_submission(user="U0REP1")
    assert len(standin.modal_stack("U0REP1")) == 2
    fake_bot.reply = lambda _: web.Response(status=200)
    await standin.view_submission(user="U0REP1")
    assert [v.id for v in standin.modal_stack("U0REP1")] == [view_id]
    await client.views_push(trigger_id=standin.issue_trigger("U0REP1"), view=second)
    fake_bot.reply = lambda _: web.json_response({"response_action": "clear"})
    await standin.view_submission(user="U0REP1")
    assert standin.modal("U0REP1") is None
    assert standin.views[view_id].status == "closed"


async def test_view_closed_only_reaches_the_app_when_asked(
    standin: SlackStandIn, fake_bot: FakeBot, client: AsyncWebClient
) -> None:
    await open_modal(standin, client, "U0REP1", SUBMITTABLE)
    assert await standin.view_closed(user="U0REP1") is None
    assert standin.modal("U0REP1") is None
    view_id = await open_modal(standin, client, "U0REP1", {**SUBMITTABLE, "notify_on_close": True})
    sent = await standin.view_closed(user="U0REP1")
    assert sent is not None and sent.status == 200
    payload = payload_of(fake_bot.received[-1])
    assert (payload["type"], payload["view"]["id"], payload["is_cleared"]) == (
        "view_closed",
        view_id,
        False,
    )


async def test_message_shortcut(standin: SlackStandIn, fake_bot: FakeBot) -> None:
    msg = standin.post_as_user(user="U0REP1", channel="C0SUPPORT", text="the gateway is down")
    await standin.message_shortcut(
        user="U0REP1", callback_id="report_message", channel="#support", message_ts=msg.ts
    )
    payload = payload_of(fake_bot.received[0])
    assert payload["type"] == "message_action"
    assert payload["callback_id"] == "report_message"
    assert payload["message"]["text"] == "the gateway is down"
    assert payload["message"]["user"] == "U0REP1"
    assert payload["message_ts"] == msg.ts
    assert payload["channel"]["id"] == "C0SUPPORT"
    assert payload["trigger_id"] and payload["response_url"]


async def test_events_envelope_mention_and_home(standin: SlackStandIn, fake_bot: FakeBot) -> None:
    await standin.app_mention(user="U0REP1", channel="C0SUPPORT", text="help, it broke")
    got = fake_bot.received[0]
    assert got.headers["Content-Type"] == "application/json"
    assert verifies(got)
    envelope = json.loads(got.body)
    assert envelope["type"] == "event_callback"
    assert envelope["team_id"] == "T0ESCAL" and envelope["api_app_id"] == "A0ESCAL"
    assert envelope["event_id"].startswith("Ev")
    assert isinstance(envelope["event_time"], int)
    event = envelope["event"]
    assert event["type"] == "app_mention"
    assert event["text"] == "<@UBOT> help, it broke"
    assert event["channel"] == "C0SUPPORT"
    assert [m.text for m in standin.messages("C0SUPPORT")] == ["<@UBOT> help, it broke"]
    assert event["ts"] == standin.messages("C0SUPPORT")[0].ts

    await standin.user_message(user="U0REP1", channel="U0REP1", text="hello bot")
    message_event = json.loads(fake_bot.received[1].body)["event"]
    assert (message_event["type"], message_event["channel_type"]) == ("message", "im")

    await standin.app_home_opened(user="U0ENG1")
    home_event = json.loads(fake_bot.received[2].body)["event"]
    assert home_event["type"] == "app_home_opened"
    assert home_event["tab"] == "home"
    assert home_event["channel"] == standin.dm_channel("U0ENG1")


async def test_url_verification(standin: SlackStandIn, fake_bot: FakeBot) -> None:
    fake_bot.reply = lambda got: web.json_response({"challenge": json.loads(got.body)["challenge"]})
    sent = await standin.url_verification("abc123")
    assert sent.json == {"challenge": "abc123"}
    assert json.loads(fake_bot.received[0].body)["type"] == "url_verification"
    assert verifies(fake_bot.received[0])


async def test_sending_needs_a_target() -> None:
    s = SlackStandIn(bot_token="xoxb-x", signing_secret="s", users=())
    with pytest.raises(StandInError):
        await s.event({"type": "app_home_opened"})


async def test_block_action_on_an_ephemeral_message(
    standin: SlackStandIn, fake_bot: FakeBot, client: AsyncWebClient
) -> None:
    eph = await client.chat_postEphemeral(
        channel="C0SUPPORT", user="U0REP1", text="Is it fixed?", blocks=BUTTONS
    )
    with pytest.raises(StandInError):  # nobody else sees it
        await standin.block_action(
            user="U0ENG1", action_id="ack", channel="C0SUPPORT", message_ts=eph["message_ts"]
        )
    await standin.block_action(
        user="U0REP1", action_id="ack", channel="C0SUPPORT", message_ts=eph["message_ts"]
    )
    payload = payload_of(fake_bot.received[0])
    assert payload["container"]["is_ephemeral"] is True
    assert "message" not in payload
    await post(payload["response_url"], {"replace_original": True, "text": "Thanks!"})
    assert [e.text for e in standin.ephemerals("U0REP1")] == ["Thanks!"]
    await post(payload["response_url"], {"delete_original": True})
    assert standin.ephemerals("U0REP1") == []
