"""The sandbox page's JSON and SSE API over real HTTP, against a whole sandbox in-process:
the stand-in, the page and the real bot with the demo config."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox.run import Sandbox
from bot.sandbox.webui_state import encode_text
from bot.slack.i18n import Language

from .sandbox_support import running_sandbox

REPORTER = "U0REP1"
# The page builds every node with textContent; none of these may appear in its scripts.
UNSAFE_DOM = re.compile(r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write|\beval\(")


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with running_sandbox(tmp_path, Language.EN) as running:
        yield running


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        base_url=sandbox.url, timeout=aiohttp.ClientTimeout(total=20)
    ) as session:
        yield session


async def api(
    http: aiohttp.ClientSession, path: str, body: dict[str, Any], status: int = 200
) -> dict[str, Any]:
    async with http.post(f"/sandbox/api/{path}", json=body) as response:
        answer: dict[str, Any] = await response.json()
        assert response.status == status, answer
        return answer


async def state(http: aiohttp.ClientSession, user: str = REPORTER) -> dict[str, Any]:
    async with http.get("/sandbox/api/state", params={"user": user}) as response:
        assert response.status == 200
        data: dict[str, Any] = await response.json()
        return data


def first_question(modal: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in modal["blocks"] if b.get("block_id", "").startswith("triage_"))


async def open_report(sandbox: Sandbox, http: aiohttp.ClientSession) -> dict[str, Any]:
    await api(
        http, "message", {"user": REPORTER, "channel": "C0SUPPORT", "text": "/report Db down"}
    )
    await sandbox.standin.wait_for(lambda: sandbox.standin.modal(REPORTER))
    modal: dict[str, Any] = (await state(http))["modal"]
    return modal


async def test_the_page_and_its_files_are_served_with_a_strict_policy(
    http: aiohttp.ClientSession,
) -> None:
    async with http.get("/") as response:
        assert response.status == 200
        html = await response.text()
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "/static/app.js" in html and "Escalator Sandbox" in html
    for name in ("app.js", "blocks.js", "modal.js", "mrkdwn.js", "app.css"):
        async with http.get(f"/static/{name}") as response:
            assert response.status == 200, name
            assert not UNSAFE_DOM.search(await response.text()), name


async def test_state_names_the_demo_people_channels_and_the_bot_dm(
    http: aiohttp.ClientSession,
) -> None:
    data = await state(http)
    roles = {u["id"]: u["role"] for u in data["users"]}
    assert roles[REPORTER] == "reporter"
    assert {"U0ENG1", "U0ENG2", "U0ENG3"} <= {u for u, r in roles.items() if "engineer" in r}
    assert roles["U0MGR1"] == "manager"
    assert all(u["real_name"] for u in data["users"])
    channels = {c["id"]: c["name"] for c in data["channels"]}
    assert channels == {
        "C0SUPPORT": "support",
        "C0MANAGERS": "managers",
        "C0CUST1": "highway-monitoring-center",
    }
    assert {"kind": "im", "id": data["dm"], "name": "Escalator"} in data["conversations"]
    assert {c["command"] for c in data["commands"]} == {"/report", "/ticket", "/oncall", "/kb"}
    assert data["shortcuts"][0]["callback_id"] == "report_message"
    async with http.get("/sandbox/api/state", params={"user": "U0NOBODY"}) as response:
        assert response.status == 400


async def test_report_through_the_modal_and_triage_opens_ticket_1(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    modal = await open_report(sandbox, http)
    assert modal["callback_id"] == "report" and modal["submit"]["text"] == "Open ticket"
    question = first_question(modal)
    await api(
        http,
        "action",
        {
            "user": REPORTER,
            "view_id": modal["id"],
            "action_id": question["element"]["action_id"],
            "block_id": question["block_id"],
            "value": "yes",
            "values": {"details.value": "Nothing loads since 9:00"},
        },
    )
    standin = sandbox.standin
    updated = await standin.wait_for(
        lambda: next(
            (v for v in [standin.modal(REPORTER)] if v and "triage_result" in str(v.blocks)), None
        )
    )
    assert updated.id == modal["id"]
    await api(
        http,
        "submit",
        {"user": REPORTER, "view_id": modal["id"], "values": {"details.value": "Nothing loads"}},
    )
    ticket = await standin.wait_for(
        lambda: next((m for m in standin.messages("C0SUPPORT") if "#1" in m.text), None)
    )
    assert ticket.blocks and ticket.blocks[0]["type"] == "header"
    data = await state(http)
    shown = data["messages"]["C0SUPPORT"]
    assert any(m["ts"] == ticket.ts and m["is_bot"] for m in shown)
    assert data["modal"]["callback_id"] == "report_done"
    await api(http, "close", {"user": REPORTER, "view_id": data["modal"]["id"]})
    assert (await state(http))["modal"] is None


async def test_submit_without_a_summary_shows_the_field_errors(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    modal = await open_report(sandbox, http)
    await api(
        http,
        "submit",
        {"user": REPORTER, "view_id": modal["id"], "values": {"summary.value": ""}},
    )
    shown = (await state(http))["modal"]
    assert shown["id"] == modal["id"]
    assert "summary" in shown["errors"]
    assert first_question(modal)["block_id"] in shown["errors"]


async def test_a_mention_offers_a_report_only_to_its_author(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    text = "@Escalator the <b>printer</b> & scanner are down"
    await api(http, "message", {"user": REPORTER, "channel": "C0SUPPORT", "text": text})
    standin = sandbox.standin
    offer = await standin.wait_for(lambda: standin.ephemerals(REPORTER, "C0SUPPORT"))
    assert "ticket" in offer[0].text
    mine = await state(http)
    said = mine["messages"]["C0SUPPORT"][0]["text"]
    assert said == f"<@{standin.bot_user_id}> the &lt;b&gt;printer&lt;/b&gt; &amp; scanner are down"
    assert [e["ts"] for e in mine["ephemerals"]] == [offer[0].ts]
    assert (await state(http, "U0ENG1"))["ephemerals"] == []
    button = offer[0].blocks[-1]["elements"][0] if offer[0].blocks else {}
    await api(
        http,
        "action",
        {
            "user": REPORTER,
            "channel": "C0SUPPORT",
            "message_ts": offer[0].ts,
            "action_id": button["action_id"],
        },
    )
    modal = await standin.wait_for(lambda: standin.modal(REPORTER))
    assert modal.callback_id == "report"


async def test_the_message_shortcut_reports_a_message(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    await api(
        http, "message", {"user": "U0CUS1", "channel": "C0CUST1", "text": "Cameras are offline"}
    )
    posted = (await state(http, "U0CUS1"))["messages"]["C0CUST1"][0]
    await api(
        http,
        "shortcut",
        {
            "user": "U0ENG1",
            "channel": "C0CUST1",
            "message_ts": posted["ts"],
            "callback_id": "report_message",
        },
    )
    modal = await sandbox.standin.wait_for(lambda: sandbox.standin.modal("U0ENG1"))
    assert modal.state_values["details"]["value"]["value"] == "Cameras are offline"
    unknown = {"user": "U0ENG1", "channel": "C0CUST1", "message_ts": posted["ts"]}
    await api(http, "shortcut", {**unknown, "callback_id": "nope"}, status=400)


async def test_bad_requests_are_refused_and_change_nothing(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        "/sandbox/api/message",
        data=json.dumps({"user": REPORTER, "channel": "C0SUPPORT", "text": "hi"}),
        headers={"Content-Type": "text/plain"},
    ) as response:
        assert response.status == 415  # a form on another site cannot post here
    refused = await api(
        http, "message", {"user": REPORTER, "channel": "C0SUPPORT", "text": "/nope"}, status=400
    )
    assert "/nope is not a valid command" in refused["error"]
    other_dm = sandbox.standin.dm_channel("U0ENG1")
    await api(http, "message", {"user": REPORTER, "channel": other_dm, "text": "x"}, status=400)
    await api(http, "message", {"user": "U0X", "channel": "C0SUPPORT", "text": "x"}, status=400)
    await api(http, "action", {"user": REPORTER, "view_id": "V404", "action_id": "a"}, status=400)
    assert sandbox.standin.all_messages() == []


async def test_app_home_opened_reaches_the_bot(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    answer = await api(http, "home", {"user": "U0MGR1"})
    # Signed as Slack signs: Bolt verified it (401 otherwise); 404 while no listener handles it.
    assert answer["ok"] is True and answer["status"] in (200, 404)


async def test_live_updates_arrive_as_server_sent_events(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    async with http.get("/sandbox/api/events", params={"user": REPORTER}) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        events: list[str] = []

        async def read_until(kind: str) -> dict[str, Any]:
            async with asyncio.timeout(10):
                while True:
                    line = (await stream.content.readline()).decode().strip()
                    if line.startswith("event: "):
                        events.append(line.removeprefix("event: "))
                    elif line.startswith("data: ") and events and events[-1] == kind:
                        data: dict[str, Any] = json.loads(line.removeprefix("data: "))
                        return data

        await read_until("hello")
        sandbox.standin.post_as_user(user="U0ENG1", channel="C0SUPPORT", text="on it")
        change = await read_until("change")
        assert change["kind"] == "message" and change["channel"] == "C0SUPPORT"


async def test_the_sandbox_stops_while_a_page_is_listening(tmp_path: Path) -> None:
    async with running_sandbox(tmp_path, Language.EN) as sandbox:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        stream = await session.get(f"{sandbox.url}sandbox/api/events?user={REPORTER}")
        assert stream.status == 200
    async with asyncio.timeout(10):
        await stream.read()  # the stream ended with the server
    stream.release()
    await session.close()


async def test_a_permalink_opens_the_page_at_the_message(http: aiohttp.ClientSession) -> None:
    url = "/archives/C0SUPPORT/p1795314690567905?thread_ts=1795314690.567905"
    async with http.get(url, allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["Location"] == (
            "/#/archives/C0SUPPORT/p1795314690567905?thread_ts=1795314690.567905"
        )
    async with http.get("/archives/C0SUPPORT/x<script>", allow_redirects=False) as response:
        assert response.status == 404


def test_typed_text_is_escaped_and_mentions_become_ids() -> None:
    from bot.sandbox.standin import SlackStandIn, StandInChannel, StandInUser

    standin = SlackStandIn(
        bot_token="xoxb-t",
        signing_secret="s",
        users=[StandInUser(id="U0ENG2", name="eli", real_name="Eli Engineer")],
        channels=[StandInChannel(id="C0SUPPORT", name="support")],
    )
    text = "override @eli 4h in #support, <!channel> & @nobody; mail a@b.org"
    assert encode_text(text, standin, with_names=True) == (
        "override <@U0ENG2|eli> 4h in <#C0SUPPORT|support>, &lt;!channel&gt; &amp; @nobody; "
        "mail a@b.org"
    )
    assert encode_text("@Escalator @eli.", standin, with_names=False) == "<@UBOT> <@U0ENG2>."
