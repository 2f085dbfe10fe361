"""The background workers never die quietly: a worker that stops is started again and
/healthz names it while it is down; the watchdog counts timers overdue; `#name` channels
from the config are resolved to ids at start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import pytest

from bot.config import Config
from bot.metrics import Metrics
from bot.services.context import Context
from bot.services.watchdog import Watchdog
from bot.sla.policy import Severity
from tests.escalation.support import CONFIG, open_ticket, settle, timer_config
from tests.fakes import FakeClock
from tests.harness import Running, running_bot


async def _get(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


@pytest.fixture
async def slow_restart(db_url: str, tconfig: Config, clock: FakeClock) -> AsyncIterator[Running]:
    async with running_bot(db_url, tconfig, clock, restart_delay=1.5) as run:
        yield run


async def test_a_worker_that_stops_is_started_again_and_healthz_says_so_meanwhile(
    slow_restart: Running, clock: FakeClock
) -> None:
    running = slow_restart
    engine = running.bot.engine
    assert engine is not None
    real_sleep = engine._sleep
    broken = [True]

    async def sleep(until: datetime) -> None:
        if broken:
            broken.clear()
            raise RuntimeError("a bug outside any pass")
        await real_sleep(until)

    engine._sleep = sleep  # type: ignore[method-assign]
    engine.wake()
    seen: list[tuple[int, dict[str, object]]] = []
    for _ in range(500):
        seen.append(await _get(f"{running.url}/healthz"))
        if seen[-1][0] == 503:
            break
        await asyncio.sleep(0.01)
    assert seen[-1] == (
        503,
        {"status": "unavailable", "worker": "timer-engine", "workers_down": ["timer-engine"]},
    )
    for _ in range(500):  # started again after the delay: healthy, and firing timers
        if (await _get(f"{running.url}/healthz"))[0] == 200:
            break
        await asyncio.sleep(0.02)
    assert (await _get(f"{running.url}/healthz"))[0] == 200
    ticket = await open_ticket(running.bot.ctx, Severity.A)
    await clock.advance(timedelta(minutes=8))  # the first respond reminder
    await settle(running.bot.ctx)
    thread = running.slack.messages("C0SUPPORT", running.slack.messages("C0SUPPORT")[0].ts)
    assert any(f"#{ticket.number}" in m.text and "50%" in m.text for m in thread)
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/metrics") as response:
        metrics = await response.text()
    assert 'escalator_worker_restarts_total{worker="timer-engine"} 1.0' in metrics
    assert 'escalator_worker_up{worker="timer-engine"} 1.0' in metrics


async def test_the_watchdog_counts_timers_due_for_over_a_minute(
    ctx: Context, clock: FakeClock
) -> None:
    config = timer_config()
    ctx = Context(db=ctx.db, config=config, clock=clock)  # no timer engine runs here
    await open_ticket(ctx, Severity.A)
    metrics = Metrics()
    watchdog = Watchdog(ctx, metrics)
    assert await watchdog.look() == 0
    await clock.advance(timedelta(minutes=8, seconds=40))  # the 50 % reminder is 70 s late
    assert await watchdog.look() == 1
    text = metrics.render().decode()
    assert "escalator_timers_overdue 1.0" in text
    assert "escalator_timers_overdue_seconds 70.0" in text


@pytest.fixture
async def named(db_url: str, clock: FakeClock) -> AsyncIterator[Running]:
    config = timer_config(channels={"support": "#support", "managers": "#managers"})
    assert CONFIG["channels"] != config.channels
    async with running_bot(db_url, config, clock) as run:
        yield run


async def test_channel_names_from_the_config_are_resolved_to_ids_at_start(
    named: Running, clock: FakeClock
) -> None:
    channels = named.bot.ctx.config.channels
    assert (channels.support, channels.managers) == ("C0SUPPORT", "C0MANAGERS")
    assert [c.params.get("types") for c in named.slack.calls("conversations.list")] == [
        "public_channel,private_channel"
    ]
    ticket = await open_ticket(named.bot.ctx, Severity.C)
    assert ticket.post_channel == "C0SUPPORT"  # so history, and the in-doubt lookup, work
    await settle(named.bot.ctx)
    assert len(named.slack.messages("C0SUPPORT")) == 1


async def test_the_review_channel_given_by_name_is_resolved_too(
    named: Running, clock: FakeClock
) -> None:
    assert named.bot.ctx.config.report.channel == "C0MANAGERS"


@pytest.fixture
async def named_customer(db_url: str, clock: FakeClock) -> AsyncIterator[Running]:
    customer = {"name": "Highway", "channel": "#highway", "warranty_until": "2020-01-01"}
    config = timer_config(customers=[customer])  # check-config takes the #name
    async with running_bot(db_url, config, clock) as run:
        yield run


async def test_a_customer_channel_given_by_name_matches_its_reports(
    named_customer: Running, clock: FakeClock
) -> None:
    customer = named_customer.bot.ctx.config.customer_for_channel("C0CUST1")
    assert customer is not None and customer.name == "Highway"
