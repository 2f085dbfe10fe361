"""The month's review over HTTP: `/ticket report` by a manager gives the known figures, and
the chart (PNG) and the CSV are uploaded through the stand-in into the channel asked in."""

from __future__ import annotations

import csv
import io
import json

from PIL import Image

from bot.sandbox.standin import StoredMessage
from tests.e2e.test_tickets import say
from tests.fakes import FakeClock
from tests.harness import Running
from tests.integration.review_support import known_month


async def shared_files(running: Running, channel: str) -> StoredMessage:
    slack = running.slack
    return await slack.wait_for(
        lambda: next((m for m in slack.messages(channel) if m.files), None), timeout=20
    )


async def test_a_manager_gets_the_review_with_its_chart_and_csv(
    running: Running, clock: FakeClock
) -> None:
    await known_month(running.bot.ctx, clock)
    slack = running.slack
    sent = await slack.slash_command(
        user="U0MGR1", command="/ticket", text="report 2026-11", channel="C0MANAGERS"
    )
    assert sent.status == 200 and isinstance(sent.json, dict)
    text = "\n".join(b["text"]["text"] for b in sent.json["blocks"] if b["type"] == "section")
    assert "*Reports by class* (3)\nA: 1 · B: 1 · C: 1 · D: 0" in text
    assert "Respond: 2/3 in time (66%)" in text
    assert "Diagnose: 1/2 in time (50%)" in text
    assert "Plan: 1/1 in time (100%)" in text
    assert "To respond: median 40 min, 90% within 1 h (3)" in text
    assert "To resolve: median 2 h, 90% within 2 h (1)" in text
    assert "*Breaches*: 2 (A 0 · B 2 · C 0 · D 0)" in text
    assert "Sign-offs: 4.0/5 from 1" in text and "Surveys: none" in text
    assert "*Answered at once by the knowledge base*: 0" in text
    assert "*Highway Monitoring Center*: 1 ticket · promises 1/1 · breaches 0" in text

    message = await shared_files(running, "C0MANAGERS")
    assert message.text.startswith("Support report 2026-11: 3 tickets, promises kept 4/6")
    assert message.files is not None
    png_file, csv_file = message.files
    assert (png_file["name"], csv_file["name"]) == ("review-2026-11.png", "tickets-2026-11.csv")
    png = slack.file(png_file["id"])
    assert png is not None and png.content is not None
    image = Image.open(io.BytesIO(png.content))
    assert image.format == "PNG" and image.size == (1100, 750)
    data = slack.file(csv_file["id"])
    assert data is not None and data.content is not None
    assert data.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["#1", "#2", "#3"]
    assert [r[1] for r in rows[1:]] == ["A", "B", "C"]
    uploads = [c for c in slack.calls("upload")]
    assert len(uploads) == 2 and all(c.status == 200 for c in uploads)


async def test_the_review_is_for_managers_only_and_a_bad_month_is_refused(
    running: Running,
) -> None:
    slack = running.slack
    assert "Only a manager" in await say(slack, "U0ENG1", "report 2026-11")
    assert "YYYY-MM" in await say(slack, "U0MGR1", "report November")
    assert "YYYY-MM" in await say(slack, "U0MGR1", "report 9999-12")  # was a 500
    assert slack.calls("files.getUploadURLExternal") == []


async def test_a_channel_the_bot_cannot_share_in_is_told(
    running: Running, clock: FakeClock
) -> None:
    slack = running.slack
    slack.fail("files.completeUploadExternal", status=500, times=None)
    answer = await say(slack, "U0MGR1", "report 2026-11")
    assert "Support report 2026-11" in answer
    told = await slack.wait_for(
        lambda: [e for e in slack.ephemerals("U0MGR1") if "could not be shared" in e.text] or None,
        timeout=30,
    )
    assert "2026-11" in told[0].text
    assert json.dumps([m.files for m in slack.messages("C0SUPPORT")]).count("review") == 0


async def test_a_month_still_to_come_is_refused(running: Running) -> None:
    """On 2026-11-23, a review of December or of next year has no figures yet: the manager
    is told so, rather than given an empty month as if nothing had happened in it."""
    slack = running.slack
    for month in ("2026-12", "2027-05"):
        answer = await say(slack, "U0MGR1", f"report {month}")
        assert f"{month} has not begun yet" in answer and "2026-11" in answer
    assert slack.calls("files.getUploadURLExternal") == []
