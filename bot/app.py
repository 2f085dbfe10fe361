"""The composition root: the one place that wires settings, config, clock, database,
Slack client, Bolt app, aiohttp routes and the delivery worker."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.config import Config
from bot.handlers import background
from bot.handlers import buttons as button_handlers
from bot.handlers import errors as error_handlers
from bot.handlers import help as help_handlers
from bot.handlers import home as home_handlers
from bot.handlers import kb as kb_handlers
from bot.handlers import oncall as oncall_handlers
from bot.handlers import plan as plan_handlers
from bot.handlers import report as report_handlers
from bot.handlers import ticket as ticket_handlers
from bot.metrics import Metrics
from bot.services.calendar_start import follow_calendar
from bot.services.context import Context, WakeDelivery
from bot.services.delivery import (
    Delivery,
    DeliverySettings,
    close_client,
    resolve_channels,
    web_client,
)
from bot.services.health import outbox_metrics
from bot.services.intake import ReportIntake
from bot.services.kb_search import KbSearches
from bot.services.patience import PATIENCE
from bot.services.plan_worker import PlanWorker
from bot.services.queries import show_reads
from bot.services.readers import Readers, paged_people
from bot.services.steps import StepIntake
from bot.services.timer_engine import TimerEngine
from bot.services.watchdog import Watchdog
from bot.settings import Settings
from storage.checkpoints import Checkpointer
from storage.db import Database
from storage.migrate import migrate
from storage.notify import Notifier

log = logging.getLogger(__name__)
STOP_WAIT = 10.0  # seconds a stop waits for the workers, then for the database
FAILING_PASSES = 3  # failed passes in a row after which /healthz names the worker
# PostgreSQL: how often the timer engine and the delivery worker look for work another
# replica left, at the latest. That replica's wake-up (LISTEN/NOTIFY) leaves a moment after
# its commit, and a replica that dies in that moment takes it along: without a look of their
# own, the others would fire its timers and send what it owed Slack only at their next look,
# minutes later (SPEC §10: "a replica that dies has its timers fired by another within
# seconds"; §5: what fell due is sent at once). A look is a read and a claim that finds
# nothing: two short statements.
REPLICA_RECHECK = timedelta(seconds=2)
RETRY_FAILED_STAGE = timedelta(minutes=5)  # a ticket whose stage failed is tried again


@dataclass
class Escalator:
    ctx: Context
    bolt: AsyncApp
    client: AsyncWebClient
    delivery: Delivery
    metrics: Metrics
    engine: TimerEngine | None = None
    plan_worker: PlanWorker | None = None
    signing_secret: str = field(default="", repr=False)
    # PostgreSQL: wakes the other replicas' workers and is woken by them (storage/notify.py)
    notifier: Notifier | None = None
    watchdog: Watchdog | None = None
    readers: Readers | None = None  # each person's language (asked at start: warm_readers)
    restart_delay: float = 1.0  # seconds before a stopped worker is started again
    down: set[str] = field(default_factory=set)  # workers stopped, waiting to be restarted
    calendar_followed: asyncio.Task[bool] | None = None  # the start's pass, once started

    @property
    def calendar(self) -> str:
        """The start's pass, as /healthz says it: following, followed or failed."""
        task = self.calendar_followed
        if task is None or not task.done():
            return "following"
        return "followed" if not task.cancelled() and task.result() else "failed"

    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def web_app(self, *, slack_events: bool = True) -> web.Application:
        """``POST /slack/events`` (HTTP mode only: in Socket Mode nothing is posted to the bot,
        and a route there would take requests signed with no secret), ``/healthz``, ``/metrics``."""
        app = web.Application()
        if slack_events:
            app.router.add_post("/slack/events", self._slack_events)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def start_workers(self) -> None:
        """Start the background workers, each under a supervisor that starts it again if it
        stops (they carry on through the errors of a pass; this is for what escapes), and
        the start's pass over the open tickets (:meth:`_follow_calendar`) beside them."""
        self.calendar_followed = asyncio.create_task(
            self._follow_calendar(), name="follow-calendar"
        )
        self._tasks.append(self.calendar_followed)
        workers: dict[str, Callable[[], Awaitable[None]]] = {"delivery": self.delivery.run}
        if self.ctx.db.sqlite_file is not None:
            workers["wal-checkpoints"] = Checkpointer(self.ctx.db.sqlite_file).run
        if self.engine is not None:
            workers["timer-engine"] = self.engine.run
        if self.plan_worker is not None:
            workers["service-plan"] = self.plan_worker.run
        if self.notifier is not None:
            workers["wake-listener"] = self.notifier.run
        if self.watchdog is not None:
            workers["watchdog"] = self.watchdog.run
        for name, run in workers.items():
            self._tasks.append(asyncio.create_task(self._supervise(name, run), name=name))
        self._tasks.append(asyncio.create_task(self._warm_readers(), name="warm-readers"))

    async def _follow_calendar(self) -> bool:
        """Once at start, open tickets follow the holiday calendar as it is now (SPEC §4).
        Requests and the workers do not wait for it: with 100,000 open tickets it takes about
        23 s here, and the timer engine fires by the rules as they are now in any case
        (a timer armed by the old calendar only wakes it to ask them). False if it failed."""
        started = time.perf_counter()
        try:
            count = await follow_calendar(self.ctx)
        except Exception:  # the timers stay as they were; the bot goes on
            log.exception("re-arming open tickets at start failed")
            return False
        took = time.perf_counter() - started
        log.info("%d open tickets follow the calendar (%.1f s)", count, took)
        return True

    async def _warm_readers(self) -> None:
        """Once at start: the languages of the people the config names, so that the first
        page to each of them is not held up asking Slack (a failure leaves the workspace's)."""
        if self.readers is None:
            return
        try:
            people = paged_people(self.ctx.config)
            known = await self.readers.warm(self.client, people)
            log.info("languages of %d of %d configured people known", known, len(people))
        except Exception:
            log.exception("asking the configured people's languages failed")

    async def _supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        up = self.metrics.worker_up.labels(worker=name)
        while True:
            self.down.discard(name)
            up.set(1)
            try:
                await run()
                log.error("worker %s returned; starting it again", name)
            except Exception:
                log.exception("worker %s stopped; starting it again", name)
            self.down.add(name)
            up.set(0)
            self.metrics.worker_restarts.labels(worker=name).inc()
            await asyncio.sleep(self.restart_delay)

    async def stop(self) -> None:
        """Stop the workers and close the database, within bounds: a shutdown never hangs
        (what did not stop in time is logged by name)."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=STOP_WAIT)
            for task in pending:
                log.error("worker %s did not stop within %.0f s", task.get_name(), STOP_WAIT)
        self._tasks.clear()
        await background.drain(STOP_WAIT)  # work a listener handed on, before the database goes
        try:
            await asyncio.wait_for(self.ctx.db.close(), timeout=STOP_WAIT)
        except TimeoutError:
            log.error("the database did not close within %.0f s", STOP_WAIT)
        await close_client(self.client)

    async def _on_startup(self, _app: web.Application) -> None:
        await self.start_workers()

    async def _on_cleanup(self, _app: web.Application) -> None:
        await self.stop()

    async def _slack_events(self, request: web.Request) -> web.StreamResponse:
        """Verify the signature first (401), then let Bolt parse (400 if it cannot). A body
        over aiohttp's limit (1 MiB, far over anything Slack sends) cannot be verified: 401
        too, as is one whose headers are not Slack's, before its body is read at all."""
        started = time.perf_counter()
        if not _fresh(request.headers):
            return _refused()
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _refused()
        if not self._signed(body, request.headers):
            return _refused()
        try:
            text = body.decode("utf-8")
            bolt_request = AsyncBoltRequest(
                body=text, query=request.query_string, headers=dict(request.headers)
            )
            bolt_response = await self.bolt.async_dispatch(bolt_request)
        except (ValueError, TypeError, AttributeError, KeyError):  # UnicodeError is a ValueError
            # Bolt catches what listeners raise; what reaches here is a body it cannot read.
            return web.json_response({"error": "malformed request"}, status=400)
        response = await to_aiohttp_response(bolt_response)
        self.metrics.request_seconds.observe(time.perf_counter() - started)
        return response

    @property
    def verifier(self) -> SignatureVerifier:
        return SignatureVerifier(self.signing_secret)

    def _signed(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Slack's v0 signature over the raw bytes (also of a body that is not UTF-8). Headers
        that are not Slack's (a timestamp that is no whole number, a signature that is not
        ASCII) are refused first: slack_sdk's verifier raises on them (a 500, a traceback)."""
        if not _fresh(headers):
            return False
        try:
            return self.verifier.is_valid_request(body.decode("utf-8"), dict(headers))
        except UnicodeDecodeError:
            timestamp = headers["X-Slack-Request-Timestamp"]
            base = b"v0:" + timestamp.encode() + b":" + body
            digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
            return hmac.compare_digest(f"v0={digest}", headers["X-Slack-Signature"])

    async def _healthz(self, _request: web.Request) -> web.Response:
        if self.down:
            down = sorted(self.down)
            return web.json_response(
                {"status": "unavailable", "worker": down[0], "workers_down": down}, status=503
            )
        if not await self.ctx.db.ping():
            return web.json_response(
                {"status": "unavailable", "database": "unreachable"}, status=503
            )
        ok: dict[str, object] = {"status": "ok", "database": "ok", "calendar": self.calendar}
        if failing := self.failing():
            ok["failing"] = failing  # still 200: requests are served (SPEC §2)
        return web.json_response(ok)

    def failing(self) -> list[str]:
        """The workers whose last FAILING_PASSES passes or more all failed (each failure is
        logged with its traceback and counted in escalator_worker_errors_total)."""
        counts = {"delivery": self.delivery.failures}
        if self.engine is not None:
            counts["timer-engine"] = self.engine.failures
        if self.plan_worker is not None:
            counts["service-plan"] = self.plan_worker.failures
        return sorted(name for name, failures in counts.items() if failures >= FAILING_PASSES)

    async def _metrics(self, _request: web.Request) -> web.Response:
        """The process's own metrics, and the outbox's read from the database; while the
        database is away, the process's alone (they are what tells of the outage)."""
        try:
            extra = await outbox_metrics(self.ctx)
        except Exception as error:
            log.warning("/metrics without the outbox's lines: %s", type(error).__name__)
            extra = ""
        return web.Response(
            body=self.metrics.render(extra),
            content_type="text/plain",
            charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff"},
        )


def _refused() -> web.Response:
    return web.json_response({"error": "invalid signature"}, status=401)


def _fresh(headers: Mapping[str, str]) -> bool:
    """Whether a request carries Slack's signature headers, well formed, with a timestamp
    within 5 minutes of now (what can be checked before the body is read)."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or not signature.isascii():
        return False
    return bool(signature) and abs(time.time() - int(timestamp)) <= 60 * 5


async def build(
    settings: Settings,
    config: Config,
    clock: Clock,
    *,
    run_migrations: bool = True,
    delivery: DeliverySettings | None = None,
    instance: str | None = None,
    restart_delay: float = 1.0,
    watchdog_every: float = 15.0,
    patience: float = PATIENCE,
) -> Escalator:
    """Build the whole bot from settings read once. Tests call this with a fake clock, and
    with their own ``delivery`` settings (pacing, lease) and ``patience`` (how long a
    report or a step is tried again while the database is away). ``instance`` names this process on
    its outbox leases (``serve``: host and port), so that started again it takes its own back.
    ``#name`` channels in the config are resolved to ids here (``conversations.list``)."""
    db = Database(settings.database_url)
    if run_migrations:
        await migrate(db)
    delivery_settings = delivery or DeliverySettings()
    client = web_client(
        settings.require_bot_token(),
        settings.slack_api_url,
        timeout=delivery_settings.call_timeout,
    )
    try:
        config = await resolve_channels(client, config)
    except BaseException:
        await close_client(client)
        raise
    if instance is not None:
        delivery_settings = dataclasses.replace(delivery_settings, owner=instance)
    replicas = not db.is_sqlite
    if replicas and delivery_settings.idle_wait > REPLICA_RECHECK:
        delivery_settings = dataclasses.replace(delivery_settings, idle_wait=REPLICA_RECHECK)
    metrics = Metrics()
    delivery_ref: list[Delivery] = []
    engine_ref: list[TimerEngine] = []
    wake_delivery, wake_engine = _late(delivery_ref), _late_engine(engine_ref)
    notifier = None
    if not db.is_sqlite:  # other replicas may share the database: wake theirs too
        notifier = Notifier(db.url, on_timer=wake_engine, on_outbox=wake_delivery)
        wake_delivery, wake_engine = (
            _also(wake_delivery, notifier),
            _also_timer(wake_engine, notifier),
        )
    ctx = Context(
        db=db,
        config=config,
        clock=clock,
        wake_delivery=wake_delivery,
        wake_engine=wake_engine,
        shows=show_reads(db),
        kb_searches=KbSearches(db),
    )
    # each person's language, asked of Slack once a day: for what they alone read, whether
    # answered by a handler or sent by the delivery worker (their DMs and pages)
    readers = Readers(ctx)
    delivery_worker = Delivery(ctx, client, metrics, delivery_settings, readers=readers)
    delivery_ref.append(delivery_worker)
    engine = TimerEngine(
        ctx,
        recheck=REPLICA_RECHECK if replicas else RETRY_FAILED_STAGE,
        retry=RETRY_FAILED_STAGE,
        on_fired=metrics.observe_timer_lags,
        on_error=metrics.worker_errors.labels(worker="timer-engine").inc,
    )
    engine_ref.append(engine)
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.require_signing_secret(),
        raise_error_for_unhandled_request=False,
        # Run each listener to its end before answering (no polling for the ack); listeners
        # with work beyond their answer hand it to bot.handlers.background.after_answer.
        process_before_response=True,
        # _slack_events checks the signature over the raw bytes before Bolt sees the request
        # (and Socket Mode has none): Bolt need not check it a second time.
        request_verification_enabled=False,
    )
    steps = StepIntake(ctx, patience=patience)
    # Bolt tries listeners in this order: the busiest (/ticket, the report form) go first.
    ticket_handlers.register(bolt, ctx, steps, readers)
    intake = ReportIntake(ctx, patience=patience)
    report_handlers.register(bolt, ctx, metrics, intake, readers)
    button_handlers.register(bolt, ctx, steps, readers)
    home_handlers.register(bolt, ctx, steps, readers)
    oncall_handlers.register(bolt, ctx, readers)
    plan_handlers.register(bolt, ctx, readers)
    kb_handlers.register(bolt, ctx, readers)
    help_handlers.register(bolt, readers)  # last: it answers any slash command nobody else took
    error_handlers.register(bolt)  # a retry of a request that opened a form is no error
    return Escalator(
        ctx=ctx,
        bolt=bolt,
        client=client,
        delivery=delivery_worker,
        metrics=metrics,
        engine=engine,
        plan_worker=PlanWorker(
            ctx, client, on_error=metrics.worker_errors.labels(worker="service-plan").inc
        ),
        signing_secret=settings.require_signing_secret(),
        notifier=notifier,
        watchdog=Watchdog(ctx, metrics, every=watchdog_every),
        restart_delay=restart_delay,
        readers=readers,
    )


def _late(ref: list[Delivery]) -> WakeDelivery:
    def wake(conversations: Collection[str] | None = None) -> None:
        if ref:
            ref[0].wake(conversations)

    return wake


def _late_engine(ref: list[TimerEngine]) -> Callable[[datetime | None], None]:
    def wake(due: datetime | None = None) -> None:
        if ref:
            ref[0].wake(due)

    return wake


def _also(wake: WakeDelivery, notifier: Notifier) -> WakeDelivery:
    def wake_all(conversations: Collection[str] | None = None) -> None:
        wake(conversations)
        notifier.notice_owed()

    return wake_all


def _also_timer(
    wake: Callable[[datetime | None], None], notifier: Notifier
) -> Callable[[datetime | None], None]:
    def wake_all(due: datetime | None = None) -> None:
        wake(due)
        notifier.timer_armed(due)

    return wake_all


async def serve_http(
    escalator: Escalator,
    host: str,
    port: int,
    ready: Callable[[], Awaitable[None]] | None = None,
    *,
    slack_events: bool = True,
) -> None:
    """Run the HTTP server until cancelled."""
    runner = web.AppRunner(escalator.web_app(slack_events=slack_events), access_log=None)
    await runner.setup()  # starts the workers (on_startup); cleanup stops them
    try:
        await web.TCPSite(runner, host, port).start()
        if ready is not None:
            await ready()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
