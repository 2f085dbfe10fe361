"""The stand-in's Web API, called through a real slack_sdk AsyncWebClient over HTTP."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn

from .conftest import BOT_TOKEN, CHANNELS, SIGNING_SECRET, USERS

TS = re.compile(r"^\d{10}\.\d{6}$")


def modal(title: str = "Report", blocks: int = 1, **extra: Any) -> dict[str, Any]:
    body = [{"type": "section", "text": {"type": "mrkdwn", "text": f"b{i}"}} for i in range(blocks)]
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": body,
        **extra,
    }


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        await call
    return str(info.value.response["error"])


async def test_auth_test_names_the_bot(standin: SlackStandIn, client: AsyncWebClient) -> None:
    resp = await client.auth_test()
    assert resp["ok"] is True
    assert resp["user_id"] == "UBOT"
    assert resp["team_id"] == "T0ESCAL"
    assert resp["bot_id"].startswith("B")
    assert resp["url"].startswith("https://")
    assert [c.method for c in standin.calls()] == ["auth.test"]


async def test_wrong_or_missing_token_is_refused(standin: SlackStandIn) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=standin.api_url)
    assert await error_of(wrong.chat_postMessage(channel="C0SUPPORT", text="hi")) == "invalid_auth"
    anonymous = AsyncWebClient(base_url=standin.api_url)
    assert await error_of(anonymous.auth_test()) == "not_authed"
    assert standin.messages("C0SUPPORT") == []
    assert standin.calls("chat.postMessage")[0].response == {"ok": False, "error": "invalid_auth"}


async def test_unknown_method(client: AsyncWebClient) -> None:
    assert await error_of(client.api_call("files.frobnicate")) == "unknown_method"


async def test_post_message_shape_and_storage(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "block_id": "s1", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    resp = await client.chat_postMessage(channel="#support", text="hi", blocks=blocks)
    assert resp["channel"] == "C0SUPPORT"
    assert TS.match(resp["ts"])
    message = resp["message"]
    assert message["type"] == "message"
    assert message["text"] == "hi"
    assert message["user"] == "UBOT"
    assert message["bot_id"] == "B0ESCAL"
    assert message["ts"] == resp["ts"]
    assert message["blocks"][0]["block_id"] == "s1"
    [stored] = standin.messages("C0SUPPORT")
    assert (stored.ts, stored.text, stored.user) == (resp["ts"], "hi", "UBOT")
    # slack_sdk sends this method as JSON: the recorded params keep the blocks as a list
    assert standin.calls("chat.postMessage")[0].params["blocks"] == blocks


async def test_timestamps_are_unique_and_increasing(client: AsyncWebClient) -> None:
    stamps = [
        (await client.chat_postMessage(channel="C0SUPPORT", text=str(i)))["ts"] for i in range(20)
    ]
    assert len(set(stamps)) == 20
    as_numbers = [tuple(map(int, ts.split("."))) for ts in stamps]
    assert as_numbers == sorted(as_numbers)


async def test_form_encoded_call_with_token_param(standin: SlackStandIn) -> None:
    form = {
        "token": BOT_TOKEN,
        "channel": "C0MANAGERS",
        "text": "from a form",
        "blocks": json.dumps([{"type": "divider"}]),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(standin.api_url + "chat.postMessage", data=form) as resp,
    ):
        body = await resp.json()
    assert body["ok"] is True
    assert body["message"]["blocks"][0]["type"] == "divider"
    assert "token" not in standin.calls("chat.postMessage")[0].params


async def test_post_to_a_user_goes_to_their_dm(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    resp = await client.chat_postMessage(channel="U0ENG1", text="you are on call")
    opened = await client.conversations_open(users="U0ENG1")
    assert resp["channel"] == opened["channel"]["id"]
    assert resp["channel"].startswith("D")
    assert standin.messages(resp["channel"])[0].text == "you are on call"
    again = await client.conversations_open(users="U0ENG1")
    assert again["channel"]["id"] == opened["channel"]["id"]
    other = await client.conversations_open(users="U0MGR1")
    assert other["channel"]["id"] != opened["channel"]["id"]


async def test_threads_and_replies(standin: SlackStandIn, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C0SUPPORT", text="ticket #1")
    reply = await client.chat_postMessage(
        channel="C0SUPPORT", text="reminder", thread_ts=parent["ts"]
    )
    assert reply["message"]["thread_ts"] == parent["ts"]
    assert [m.text for m in standin.messages("C0SUPPORT")] == ["ticket #1"]
    thread = standin.messages("C0SUPPORT", thread_ts=parent["ts"])
    assert [m.text for m in thread] == ["ticket #1", "reminder"]
    replies = await client.conversations_replies(channel="C0SUPPORT", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["ticket #1", "reminder"]
    assert replies["messages"][0]["reply_count"] == 1
    assert replies["has_more"] is False
    assert await error_of(client.conversations_replies(channel="C0SUPPORT", ts="1.000001")) == (
        "message_not_found"
    )


async def test_history_newest_first_with_paging(client: AsyncWebClient) -> None:
    for i in range(5):
        await client.chat_postMessage(channel="C0SUPPORT", text=f"m{i}")
    page = await client.conversations_history(channel="C0SUPPORT", limit=3)
    assert [m["text"] for m in page["messages"]] == ["m4", "m3", "m2"]
    assert page["has_more"] is True
    cursor = page["response_metadata"]["next_cursor"]
    rest = await client.conversations_history(channel="C0SUPPORT", limit=3, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["m1", "m0"]
    assert rest["has_more"] is False


async def test_update_records_the_edit(standin: SlackStandIn, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0SUPPORT", text="state: open")
    resp = await client.chat_update(
        channel="C0SUPPORT", ts=posted["ts"], text="state: acknowledged"
    )
    assert (resp["channel"], resp["ts"], resp["text"]) == (
        "C0SUPPORT",
        posted["ts"],
        "state: acknowledged",
    )
    assert resp["message"]["edited"]["user"] == "UBOT"
    [stored] = standin.messages("C0SUPPORT")
    assert stored.text == "state: acknowledged"
    assert [e.text for e in stored.edits] == ["state: acknowledged"]
    missing = client.chat_update(channel="C0SUPPORT", ts="1700000000.000001", text="x")
    assert await error_of(missing) == "message_not_found"


async def test_ephemeral_delete_permalink_reaction(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    eph = await client.chat_postEphemeral(channel="C0SUPPORT", user="U0REP1", text="only you")
    assert TS.match(eph["message_ts"])
    assert [e.text for e in standin.ephemerals("U0REP1")] == ["only you"]
    assert standin.ephemerals("U0ENG1") == []
    stranger = client.chat_postEphemeral(channel="C0SUPPORT", user="UNOBODY", text="x")
    assert await error_of(stranger) == "user_not_in_channel"

    posted = await client.chat_postMessage(channel="C0SUPPORT", text="ticket")
    link = await client.chat_getPermalink(channel="C0SUPPORT", message_ts=posted["ts"])
    assert link["channel"] == "C0SUPPORT"
    assert link["permalink"].endswith("/archives/C0SUPPORT/p" + posted["ts"].replace(".", ""))

    assert (await client.reactions_add(channel="C0SUPPORT", timestamp=posted["ts"], name="eyes"))[
        "ok"
    ]
    again = client.reactions_add(channel="C0SUPPORT", timestamp=posted["ts"], name="eyes")
    assert await error_of(again) == "already_reacted"
    assert standin.messages("C0SUPPORT")[0].reactions == {"eyes": ["UBOT"]}

    deleted = await client.chat_delete(channel="C0SUPPORT", ts=posted["ts"])
    assert (deleted["channel"], deleted["ts"]) == ("C0SUPPORT", posted["ts"])
    assert standin.messages("C0SUPPORT") == []


async def test_conversations_info(standin: SlackStandIn, client: AsyncWebClient) -> None:
    info = await client.conversations_info(channel="C0SUPPORT")
    assert info["channel"]["id"] == "C0SUPPORT"
    assert info["channel"]["name"] == "support"
    assert info["channel"]["is_channel"] is True
    dm = await client.conversations_info(channel=standin.dm_channel("U0REP1"))
    assert dm["channel"]["is_im"] is True
    assert dm["channel"]["user"] == "U0REP1"
    assert await error_of(client.conversations_info(channel="C0NOPE")) == "channel_not_found"


async def test_users_info_profile_and_timezone(client: AsyncWebClient) -> None:
    resp = await client.users_info(user="U0ENG1")
    user = resp["user"]
    assert user["id"] == "U0ENG1"
    assert user["name"] == "eng1"
    assert user["real_name"] == "Erin Engineer"
    assert user["profile"]["real_name"] == "Erin Engineer"
    assert user["tz"] == "Europe/Berlin"
    offset = datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin")).utcoffset()
    assert offset is not None and user["tz_offset"] == int(offset.total_seconds())
    shanghai = (await client.users_info(user="U0REP1"))["user"]
    assert shanghai["tz_offset"] == 8 * 3600
    assert await error_of(client.users_info(user="U0GHOST")) == "user_not_found"


async def test_message_limits(client: AsyncWebClient) -> None:
    assert (await client.chat_postMessage(channel="C0SUPPORT", text="x" * 40_000))["ok"]
    too_long = client.chat_postMessage(channel="C0SUPPORT", text="x" * 40_001)
    assert await error_of(too_long) == "msg_too_long"
    fifty = [{"type": "divider"}] * 50
    assert (await client.chat_postMessage(channel="C0SUPPORT", text="t", blocks=fifty))["ok"]
    many = client.chat_postMessage(
        channel="C0SUPPORT", text="t", blocks=[*fifty, {"type": "divider"}]
    )
    assert await error_of(many) == "invalid_blocks"
    assert await error_of(client.chat_postMessage(channel="", text="t")) == "channel_not_found"
    assert (
        await error_of(client.chat_postMessage(channel="#nowhere", text="t")) == "channel_not_found"
    )
    with pytest.warns(UserWarning):  # slack_sdk warns too
        assert await error_of(client.chat_postMessage(channel="C0SUPPORT")) == "no_text"


async def test_views_open_update_push(standin: SlackStandIn, client: AsyncWebClient) -> None:
    trigger = standin.issue_trigger("U0REP1")
    opened = await client.views_open(
        trigger_id=trigger,
        view=modal(callback_id="report", private_metadata="m", external_id="ext-1"),
    )
    view = opened["view"]
    assert view["id"].startswith("V")
    assert view["type"] == "modal"
    assert view["callback_id"] == "report"
    assert view["private_metadata"] == "m"
    assert view["state"] == {"values": {}}
    assert view["root_view_id"] == view["id"]
    assert view["previous_view_id"] is None
    shown = standin.modal("U0REP1")
    assert shown is not None and shown.id == view["id"]

    updated = await client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Step 2"))
    assert updated["view"]["id"] == view["id"]
    assert updated["view"]["hash"] != view["hash"]
    assert updated["view"]["title"]["text"] == "Step 2"
    stale = client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Step 3"))
    assert await error_of(stale) == "hash_conflict"
    by_external = await client.views_update(external_id="ext-1", view=modal("Step 3"))
    assert by_external["view"]["id"] == view["id"]
    assert await error_of(client.views_update(view_id="VNOPE", view=modal())) == "not_found"

    pushed = await client.views_push(trigger_id=standin.issue_trigger("U0REP1"), view=modal("More"))
    assert pushed["view"]["previous_view_id"] == view["id"]
    assert pushed["view"]["root_view_id"] == view["id"]
    await client.views_push(trigger_id=standin.issue_trigger("U0REP1"), view=modal("Third"))
    fourth = client.views_push(trigger_id=standin.issue_trigger("U0REP1"), view=modal("Fourth"))
    assert await error_of(fourth) == "push_limit_reached"
    assert [v.view["title"]["text"] for v in standin.modal_stack("U0REP1")] == [
        "Step 3",
        "More",
        "Third",
    ]


async def test_view_limits(standin: SlackStandIn, client: AsyncWebClient) -> None:
    ok = await client.views_open(
        trigger_id=standin.issue_trigger("U0REP1"), view=modal("x" * 24, blocks=100)
    )
    assert ok["ok"]
    long_title = client.views_open(trigger_id=standin.issue_trigger("U0REP1"), view=modal("x" * 25))
    assert await error_of(long_title) == "invalid_arguments"
    many = client.views_open(trigger_id=standin.issue_trigger("U0REP1"), view=modal(blocks=101))
    assert await error_of(many) == "invalid_arguments"
    no_submit = modal()
    no_submit["blocks"] = [
        {
            "type": "input",
            "label": {"type": "plain_text", "text": "L"},
            "element": {"type": "plain_text_input"},
        }
    ]
    missing = client.views_open(trigger_id=standin.issue_trigger("U0REP1"), view=no_submit)
    assert await error_of(missing) == "invalid_arguments"


async def test_trigger_ids_must_be_issued_fresh_and_unused(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    made_up = client.views_open(trigger_id="123.456.deadbeef", view=modal())
    assert await error_of(made_up) == "expired_trigger_id"
    trigger = standin.issue_trigger("U0REP1")
    assert (await client.views_open(trigger_id=trigger, view=modal()))["ok"]
    assert (
        await error_of(client.views_open(trigger_id=trigger, view=modal()))
        == "exchanged_trigger_id"
    )
    old = standin.issue_trigger("U0REP1")
    standin.expire_triggers()
    assert await error_of(client.views_open(trigger_id=old, view=modal())) == "expired_trigger_id"


async def test_trigger_ids_expire_after_their_ttl() -> None:
    s = SlackStandIn(
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        users=USERS,
        channels=CHANNELS,
        trigger_ttl=0.05,
    )
    await s.start()
    try:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=s.api_url)
        trigger = s.issue_trigger("U0REP1")
        await asyncio.sleep(0.1)
        assert (
            await error_of(client.views_open(trigger_id=trigger, view=modal()))
            == "expired_trigger_id"
        )
    finally:
        await s.stop()


async def test_views_publish_app_home(standin: SlackStandIn, client: AsyncWebClient) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your tickets"}}],
    }
    first = await client.views_publish(user_id="U0ENG1", view=home)
    assert first["view"]["type"] == "home"
    assert first["view"]["id"].startswith("V")
    second = await client.views_publish(user_id="U0ENG1", view={**home, "blocks": []})
    assert second["view"]["id"] == first["view"]["id"]
    assert second["view"]["hash"] != first["view"]["hash"]
    published = standin.home("U0ENG1")
    assert published is not None and published.blocks == []
    assert standin.home("U0MGR1") is None
    modal_as_home = client.views_publish(user_id="U0ENG1", view=modal())
    assert await error_of(modal_as_home) == "invalid_arguments"
    assert await error_of(client.views_publish(user_id="U0GHOST", view=home)) == "user_not_found"


async def test_conversations_list_pages_through_the_channels(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    first = await client.conversations_list(types="public_channel,private_channel", limit=1)
    assert [c["name"] for c in first["channels"]] == ["support"]
    cursor = first["response_metadata"]["next_cursor"]
    assert cursor
    second = await client.conversations_list(
        types="public_channel,private_channel", limit=1, cursor=cursor
    )
    assert [c["id"] for c in second["channels"]] == ["C0MANAGERS"]
    assert second["response_metadata"]["next_cursor"] == ""
    private_only = await client.conversations_list(types="private_channel")
    assert private_only["channels"] == []
