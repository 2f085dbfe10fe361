"""/oncall and /oncall override over real HTTP, signed, through the stand-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.errors import UserError
from bot.handlers.oncall import parse_override
from bot.sla.policy import Severity
from storage.tables import OnCallOverrideRow
from tests.escalation.support import open_ticket, settle
from tests.fakes import FakeClock
from tests.harness import Running


async def reply(running: Running, user: str, text: str) -> str:
    sent = await running.slack.slash_command(user=user, command="/oncall", text=text)
    assert sent.status == 200
    return str(sent.json["text"])


async def test_oncall_shows_now_and_next(running: Running) -> None:
    text = await reply(running, "U0REP", "")
    now, following = text.splitlines()
    assert "primary <@U0ENG1>" in now and "secondary <@U0ENG3>" in now
    assert "primary <@U0ENG2>" in following
    assert running.slack.ephemerals("U0REP")[-1].text == text  # shown to the asker only


async def test_override_replaces_the_primary_and_is_recorded(
    running: Running, clock: FakeClock
) -> None:
    text = await reply(running, "U0ENG3", "override <@U0ENG2|eli> 4h")
    assert text.startswith("<@U0ENG2> is the on-call primary until")
    assert "primary <@U0ENG2> (override)" in text
    async with running.bot.ctx.db.orm() as session:
        [row] = (await session.scalars(select(OnCallOverrideRow))).all()
    assert (row.user_id, row.created_by, row.end - row.start) == (
        "U0ENG2",
        "U0ENG3",
        timedelta(hours=4),
    )
    # A page during the override goes to the override's user.
    await open_ticket(running.bot.ctx, Severity.A)
    await settle(running.bot.ctx)
    assert len(running.slack.messages(running.slack.dm_channel("U0ENG2"))) == 1
    assert running.slack.messages(running.slack.dm_channel("U0ENG1")) == []
    await clock.advance(timedelta(hours=4))
    assert "primary <@U0ENG1>," in (await reply(running, "U0REP", "")).splitlines()[0]


@pytest.mark.parametrize(
    ("user", "text", "says"),
    [
        ("U0REP", "override <@U0ENG2|eli> 4h", "Only engineers and managers"),
        ("U0ENG1", "override eli 4h", "Name the user with @"),
        ("U0MGR1", "override <@U0ENG2> soon", "`soon` is not a duration"),
        ("U0MGR1", "override <@U0ENG2> 1mo", "`1mo` is not a duration"),  # was a 500
        ("U0MGR1", "override <@U0CUST|cu> 4h", "neither an engineer nor a manager"),
        ("U0MGR1", "override <@U0ENG2> &lt;!here&gt;", "`&lt;!here&gt;` is not a duration"),
        ("U0ENG1", "override <@U0ENG2> 90d", "up to 31d"),
        ("U0ENG1", "override <@U0ENG2> 99999w", "up to 31d"),
        ("U0ENG1", "override <@U0ENG2> 99999999999w", "up to 31d"),  # was a 500
        ("U0ENG1", "override <@U0ENG2> 0m", "`0m` is not a duration"),
        ("U0ENG1", "override <@U0ENG2> -4h", "`-4h` is not a duration"),
        ("U0ENG1", "override 4h", "`/oncall override` takes a user and how long"),
        ("U0ENG1", "override <@U0ENG2>", "`/oncall override` takes a user and how long"),
        ("U0ENG1", "override", "`/oncall override` takes a user and how long"),
        ("U0ENG1", "swap", "/oncall override @user 4h"),
    ],
)
async def test_refused_or_bad_commands_change_nothing(
    running: Running, user: str, text: str, says: str
) -> None:
    assert says in await reply(running, user, text)
    async with running.bot.ctx.db.orm() as session:
        assert (await session.scalars(select(OnCallOverrideRow))).all() == []


def test_parse_override_forms() -> None:
    assert parse_override("override <@U0ENG2|eli> 90m") == ("U0ENG2", timedelta(minutes=90))
    assert parse_override("OVERRIDE <@W0ENG2> 1d") == ("W0ENG2", timedelta(days=1))
    assert parse_override("override U0ENG2 1h30m") == ("U0ENG2", timedelta(minutes=90))
    with pytest.raises(UserError):
        parse_override("override <@U0ENG2> 4h extra")


async def test_the_open_ticket_button_of_a_page_is_answered(running: Running) -> None:
    slack = running.slack
    await open_ticket(running.bot.ctx, Severity.A)
    await settle(running.bot.ctx)
    dm = slack.dm_channel("U0ENG1")
    [page] = slack.messages(dm)
    sent = await slack.block_action(
        user="U0ENG1", action_id="ticket_open", channel=dm, message_ts=page.ts
    )
    assert sent.status == 200
