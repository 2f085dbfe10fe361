"""Telling the managers, once per year, that a year's holidays are estimated (SPEC §4).

The record is a key in the processed-requests table (``calendar:estimated:2027``), written
in the transaction that owes the notice: the managers are told once, also across restarts
and by several processes sharing the database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.domain.notices import NoticeKind
from bot.slack import calendar_text
from bot.slack.i18n import Translator, translator
from storage import outbox, requests
from storage.outbox import NewNotice


def estimated_key(year: int) -> str:
    return f"calendar:estimated:{year}"


def official_key(year: int) -> str:
    return f"calendar:official:{year}"


def _tr(config: Config) -> Translator:
    """The managers' channel reads the workspace's language."""
    return translator(config.language, config.tz)


def _notice(config: Config, text: str) -> NewNotice:
    return NewNotice(None, NoticeKind.MANAGERS, {"channel": config.channels.managers, "text": text})


async def tell_estimated(
    conn: AsyncConnection, config: Config, years: Iterable[int], *, now: datetime
) -> frozenset[str]:
    """In the caller's transaction: owe the managers' channel a notice for each of ``years``
    (years whose holidays are estimated) that they were not told of before. Returns the
    conversations owed (for the delivery worker's wake)."""
    notices = [
        _notice(config, calendar_text.estimated_year(_tr(config), year))
        for year in sorted(set(years))
        if await requests.first_time(conn, estimated_key(year), now=now)
    ]
    return await outbox.enqueue_many(conn, notices, now=now)


async def tell_official(
    conn: AsyncConnection, config: Config, years: Iterable[int], *, now: datetime
) -> None:
    """In the caller's transaction: owe the managers a notice for each of ``years`` that was
    estimated when they were told and is official now, once per year."""
    notices = [
        _notice(config, calendar_text.official_year(_tr(config), year))
        for year in sorted(set(years))
        if await requests.first_time(conn, official_key(year), now=now)
    ]
    await outbox.enqueue_many(conn, notices, now=now)
