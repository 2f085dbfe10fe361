"""Files through the stand-in: slack_sdk's files_upload_v2 (get an upload URL, POST the bytes
there, complete the upload into a channel) over real HTTP, and the file served back."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.standin import SlackStandIn

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def test_files_upload_v2_shares_files_into_the_channel(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    response = await client.files_upload_v2(
        file_uploads=[
            {"content": PNG, "filename": "review.png", "title": "月报 chart"},
            {"content": b"a,b\n1,2\n", "filename": "tickets.csv", "title": "tickets"},
        ],
        channel="C0SUPPORT",
        initial_comment="The review of 2026-10",
    )
    assert response["ok"] is True and len(response["files"]) == 2
    methods = [c.method for c in standin.calls()]
    assert methods == [
        "files.getUploadURLExternal",
        "files.getUploadURLExternal",
        "upload",
        "upload",
        "files.completeUploadExternal",
    ]
    (message,) = standin.messages("C0SUPPORT")
    assert message.text == "The review of 2026-10" and message.user == "UBOT"
    assert message.files is not None
    names = [f["name"] for f in message.files]
    assert names == ["review.png", "tickets.csv"]
    assert message.files[0]["mimetype"] == "image/png" and message.files[0]["title"] == "月报 chart"
    stored = standin.file(message.files[0]["id"])
    assert stored is not None and stored.content == PNG
    async with (
        aiohttp.ClientSession() as http,
        http.get(message.files[0]["url_private"]) as got,
    ):
        assert got.status == 200 and got.content_type == "image/png"
        assert await got.read() == PNG
    history = await client.conversations_history(channel="C0SUPPORT")
    assert history["messages"][0]["files"][1]["name"] == "tickets.csv"


async def test_an_upload_that_never_arrived_cannot_be_completed(
    standin: SlackStandIn, client: AsyncWebClient
) -> None:
    got = await client.files_getUploadURLExternal(filename="x.png", length=10)
    with pytest.raises(SlackApiError) as caught:
        await client.files_completeUploadExternal(
            files=[{"id": got["file_id"]}], channel_id="C0SUPPORT"
        )
    assert caught.value.response["error"] == "file_upload_not_complete"
    async with (
        aiohttp.ClientSession() as http,
        http.post(got["upload_url"], data=b"short") as posted,
    ):
        assert posted.status == 400  # the length announced was 10
    with pytest.raises(SlackApiError) as unknown:
        await client.files_completeUploadExternal(files=[{"id": "F0NOPE"}], channel_id="C0SUPPORT")
    assert unknown.value.response["error"] == "file_not_found"
    with pytest.raises(SlackApiError) as bad:
        await client.files_getUploadURLExternal(filename="", length=10)
    assert bad.value.response["error"] == "invalid_arguments"
    assert standin.messages("C0SUPPORT") == []
