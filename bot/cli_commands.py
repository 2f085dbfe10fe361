"""What the CLI's subcommands do, apart from parsing arguments."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import gc
import logging
import os
import signal
import socket as socket_module
import sqlite3
from pathlib import Path
from typing import Any

from bot.app import build, serve_http
from bot.clock import SystemClock
from bot.config import Config, load_config
from bot.domain.review import Month, Review, parse_month
from bot.errors import ConfigError, UserError
from bot.logs import setup_logging
from bot.settings import Settings
from bot.sla.calendar_config import WEEKDAYS
from bot.sla.deadlines import deadlines_json
from bot.sla.policy import Severity
from storage.db import Database
from storage.migrate import migrate as run_migrations

log = logging.getLogger("escalator")


def check_config(path: str | None, *, named_by: str = "ESCALATOR_CONFIG") -> int:
    config = load_config(path, named_by=named_by)
    print(f"config: {path or '(built-in defaults)'}: OK")
    print(f"timezone: {config.timezone}")
    print(f"channels: support={config.channels.support} managers={config.channels.managers}")
    print(f"engineers: {', '.join(config.roles.engineers) or '(none)'}")
    print(f"managers: {', '.join(config.roles.managers) or '(none)'}")
    print(f"calendar: {_describe_calendar(config)}")
    for customer in config.customers:
        until = customer.warranty_until.isoformat() if customer.warranty_until else "open-ended"
        print(f"customer: {customer.name} in {customer.channel}, warranty until {until}")
        owner = customer.owner or "(none: the managers)"
        contacts = ", ".join(customer.contacts) or "(none: no survey)"
        print(f"  plan: {customer.plan.describe()}; owner {owner}; contacts {contacts}")
    print(f"service plan: {config.service_plan.describe()}")
    print(f"report channel: {config.report.channel}")
    print("policy:")
    for line in config.policy.describe():
        print(f"  {line}")
    return 0


def _describe_calendar(config: Config) -> str:
    cal = config.calendar
    days = ",".join(WEEKDAYS[d] for d in sorted(cal.workdays))
    hours = ",".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in cal.spans)
    extras = f"; extra holidays {len(cal.extra_holidays)}, extra workdays {len(cal.extra_workdays)}"
    return (
        f"{days} {hours}, holidays {cal.holidays or '(none)'}, "
        f"one working day = {cal.day_length}{extras}"
    )


def deadlines(
    *,
    config_path: str | None,
    severity: str,
    reported: str,
    out_of_warranty: bool,
    named_by: str = "ESCALATOR_CONFIG",
) -> dict[str, str | bool]:
    config = load_config(config_path, named_by=named_by)
    return deadlines_json(
        policy=config.policy,
        calendar=config.calendar,
        severity=Severity(severity),
        reported_local=reported,
        out_of_warranty=out_of_warranty,
    )


async def migrate(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await run_migrations(db)
    finally:
        await db.close()


def backup(settings: Settings, path: str) -> None:
    """SQLite's online backup: a consistent copy while the service keeps writing."""
    url = settings.database_url
    if not url.startswith("sqlite"):
        raise UserError("backup copies SQLite databases; for PostgreSQL use pg_dump")
    source_path = url.split("///", 1)[1] if "///" in url else ""
    if not source_path or source_path == ":memory:" or not Path(source_path).exists():
        raise ConfigError("DATABASE_URL", f"no SQLite database file at {source_path!r}")
    target = Path(path)
    if target.exists():
        raise UserError("%(path)s exists already; give a new path", path=path)
    if not target.parent.is_dir():  # sqlite3 would only say "unable to open database file"
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(target.parent))
    source = sqlite3.connect(source_path, timeout=30)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


async def serve(settings: Settings, host: str, port: int) -> None:
    config = load_config(settings.config_path)
    settings.require_bot_token()
    settings.require_signing_secret()
    _logging(settings)
    # Named by host and port on its outbox leases: started again, it takes its own back.
    escalator = await build(
        settings, config, SystemClock(), instance=f"{socket_module.gethostname()}:{port}"
    )
    _settle_heap()

    async def ready() -> None:
        log.info("escalator serving on http://%s:%d (POST /slack/events)", host, port)

    await _until_signal(serve_http(escalator, host, port, ready))


async def socket(settings: Settings, host: str, port: int) -> None:
    """Socket Mode: Slack's requests come over a WebSocket the bot opens, so nothing is posted
    to it; ``host:port`` serves only ``/healthz`` and ``/metrics`` (the image's health check)."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.errors import SlackApiError

    config = load_config(settings.config_path)
    app_token = settings.require_app_token()
    settings.require_bot_token()
    if not settings.slack_signing_secret:
        # Socket Mode requests are not signed; Bolt still wants a value.
        settings = dataclasses.replace(settings, slack_signing_secret="unused-in-socket-mode")
    _logging(settings)
    escalator = await build(settings, config, SystemClock())
    _settle_heap()
    handler = AsyncSocketModeHandler(escalator.bolt, app_token)

    async def connected() -> None:
        try:  # the handler would only log a refused token and try again every 10 s
            await escalator.client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            raise ConfigError(
                "SLACK_APP_TOKEN", f"Slack refused it ({exc.response.get('error')})"
            ) from None
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("escalator in Socket Mode; GET /healthz and /metrics on http://%s:%d", host, port)

    try:
        await _until_signal(serve_http(escalator, host, port, connected, slack_events=False))
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


# Allocations between two passes of the garbage collector over the youngest objects (the
# interpreter's default is 700): a request makes thousands of short-lived objects, most of
# them gone before a pass at 700 would look at them (docs/benchmarks.md says what it saved).
YOUNG_GC_THRESHOLD = 20_000


def _settle_heap() -> None:
    """What start-up made lives as long as the process: keep it out of the garbage
    collector's full passes, which otherwise walk it all (docs/benchmarks.md says what that
    cost); and pass over the young objects less often."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, older, oldest)


def _logging(settings: Settings) -> None:
    setup_logging(
        [
            settings.slack_bot_token or "",
            settings.slack_signing_secret or "",
            settings.slack_app_token or "",
        ]
    )


async def _until_signal(work: Any) -> None:
    """Run ``work`` until it ends or SIGTERM/SIGINT arrives, then clean up."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        log.info("escalator stopping")


def report(settings: Settings, month: str, out: str) -> list[Path]:
    """The month's review as files, without Slack: the chart (PNG) and the CSV in ``out``."""
    from bot.services.review_post import file_names

    chosen = parse_month(month)
    config = load_config(settings.config_path)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UserError("%(path)s is not a directory", path=out)
    review, png, data = asyncio.run(_review_files(settings, config, chosen))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in zip(file_names(review), (png, data), strict=True):
        path = folder / name
        path.write_bytes(content)
        written.append(path)
    return written


async def _review_files(
    settings: Settings, config: Config, month: Month
) -> tuple[Review, bytes, bytes]:
    from bot.services.context import Context
    from bot.services.review import month_review
    from bot.services.review_files import chart_png, tickets_csv

    db = Database(settings.database_url)
    try:
        await run_migrations(db)
        ctx = Context(db=db, config=config, clock=SystemClock())
        review = await month_review(ctx, month)
        return review, await chart_png(review, ctx.tr), await tickets_csv(ctx, review)
    finally:
        await db.close()
