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
    ctx: Context, *, actor: str, user: str, length: timedelta
) -> tuple[Override, tuple[OnCall, OnCall]]:
    """``user`` is the primary from now for ``length``. Engineers and managers only."""
    config = ctx.config
    check_duty(Duty.OVERRIDE_ONCALL, ctx.actor(actor))
    check_holder(ctx.actor(user))
    if length <= timedelta(0) or length > MAX_OVERRIDE:
        raise UserError(OVERRIDE_LENGTH)
    now = ctx.clock.now()
    override = Override(user=user, start=now, end=now + length)
    async with ctx.db.write() as conn:
        await oncall_store.add_override(conn, override, created_by=actor, now=now)
        found = await rotation_at(conn, config, now)
    log.info("on-call override until=%s", override.end.isoformat(), extra={"user": actor})
    return override, found.now_and_next(now)
