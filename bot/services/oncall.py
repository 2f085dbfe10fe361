"""Use cases of ``/oncall``: who is on call now and next, and overriding the primary."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.domain.roles import Duty, check_duty, check_holder
from bot.domain.rotation import OnCall, OnCallRotation, Override
from bot.errors import Message, UserError
from bot.services.context import Context
from storage import oncall as oncall_store
from storage.requests import first_time, replies_for

log = logging.getLogger(__name__)

MAX_OVERRIDE = timedelta(days=31)
OVERRIDE_LENGTH = Message("An override lasts from 1m up to 31d: `/oncall override @user 4h`.")


def rotation(config: Config) -> OnCallRotation:
    """The configured rotation, without overrides."""
    oncall = config.oncall
    return OnCallRotation.build(
        primary=oncall.primary,
        secondary=oncall.secondary,
        shift=oncall.shift,
        handoff=oncall.handoff,
        tz=config.tz,
    )


async def rotation_at(conn: AsyncConnection, config: Config, now: datetime) -> OnCallRotation:
    """The rotation with the stored overrides that have not ended by ``now``."""
    return rotation(config).with_overrides(await oncall_store.overrides_after(conn, now))


async def who_is_on_call(ctx: Context) -> tuple[OnCall, OnCall]:
    now = ctx.clock.now()
    async with ctx.db.read() as conn:
        found = await rotation_at(conn, ctx.config, now)
    return found.now_and_next(now)


async def override_primary(
    ctx: Context,
    *,
    actor: str,
    user: str,
    length: timedelta,
    request_key: str | None = None,
) -> tuple[Override, tuple[OnCall, OnCall]]:
    """``user`` is the primary from now for ``length``. Engineers and managers only.
    ``request_key`` (the command's trigger): Slack's retry of the same command gets the
    override the first one stored, and stores none (SPEC §8)."""
    config = ctx.config
    check_duty(Duty.OVERRIDE_ONCALL, ctx.actor(actor))
    check_holder(ctx.actor(user))
    if length <= timedelta(0) or length > MAX_OVERRIDE:
        raise UserError(OVERRIDE_LENGTH)
    now = ctx.clock.now()
    override = Override(user=user, start=now, end=now + length)
    async with ctx.db.write() as conn:
        if request_key is None or await first_time(
            conn, request_key, now=now, reply=_span(override)
        ):
            await oncall_store.add_override(conn, override, created_by=actor, now=now)
            log.info("on-call override until=%s", override.end.isoformat(), extra={"user": actor})
        else:
            stored = (await replies_for(conn, [request_key]))[request_key]
            start, _, end = stored.partition(" ")
            override = Override(
                user=user, start=datetime.fromisoformat(start), end=datetime.fromisoformat(end)
            )
        found = await rotation_at(conn, config, now)
    return override, found.now_and_next(now)


def _span(override: Override) -> str:
    return f"{override.start.isoformat()} {override.end.isoformat()}"
