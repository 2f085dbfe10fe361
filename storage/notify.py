"""Wake-ups between replicas on PostgreSQL: LISTEN/NOTIFY on a connection of its own.

Each process's timer engine and outbox worker sleep until their next due row or a local
wake-up. With several replicas on one database, a timer armed on one replica, or a notice it
owes, must also wake the others: the replica that armed it may die before it is due. So,
after a commit that arms a timer or owes a notice, the use case's wake-up also calls
:meth:`Notifier.timer_armed` / :meth:`Notifier.notice_owed`; the notifier sends one
``NOTIFY`` (coalescing the calls of a moment into one per kind), and every other replica's
notifier hands it to its callbacks (an owed notice after :data:`OUTBOX_DELAY`). A replica
ignores its own notifications.

The connection is asyncpg's own (not the pool's: a LISTEN lasts as long as the connection).
When it is lost (the server restarts, the network drops) the notifier reconnects with
backoff, and on every (re)connection wakes both workers, since notifications sent meanwhile
are lost; the workers' own recheck covers what falls in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import make_url

log = logging.getLogger(__name__)

CHANNEL = "escalator_wake"
COALESCE = 0.02  # seconds: wake-ups asked for within this are sent as one NOTIFY per kind
# Seconds another replica's "notice owed" waits before it wakes this one's outbox worker
# (those heard meanwhile are one wake-up): the replica that wrote the notice is sending it
# already, and a claim here would mostly find nothing. Only if it died is this one needed.
OUTBOX_DELAY = 1.0
RECONNECT_FIRST = 0.5
RECONNECT_MAX = 10.0
APPLICATION_NAME = "escalator-wake"  # the listener in pg_stat_activity


class Wake(StrEnum):
    """What a notification says (its payload is ``kind`` or ``timer:<ISO due>``)."""

    TIMER = "timer"
    OUTBOX = "outbox"


def encode(kind: Wake, due: datetime | None = None) -> str:
    return f"{kind.value}:{due.isoformat()}" if due is not None else kind.value


def decode(payload: str) -> tuple[Wake, datetime | None] | None:
    """The kind and due instant of a payload; None for one this version does not know."""
    kind, _, due = payload.partition(":")
    try:
        wake = Wake(kind)
        return wake, (datetime.fromisoformat(due) if due else None)
    except ValueError:
        return None


def asyncpg_dsn(url: str) -> str:
    """The DSN asyncpg takes, from an SQLAlchemy ``postgresql+asyncpg://`` URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Notifier:
    """Sends and receives this process's wake-ups (see the module's docstring)."""

    def __init__(
        self,
        url: str,
        *,
        on_timer: Callable[[datetime | None], None],
        on_outbox: Callable[[], None],
    ) -> None:
        self._dsn = asyncpg_dsn(url)
        self._on_timer = on_timer
        self._on_outbox = on_outbox
        self._pending = asyncio.Event()
        self._timer = False
        self._timer_due: datetime | None = None  # the earliest due asked for (None: unknown)
        self._outbox = False
        self._conn: Any = None
        self._pid: int | None = None
        self.listening = asyncio.Event()  # set while LISTEN is on (tests wait for it)
        self.received = 0
        self._outbox_later: asyncio.TimerHandle | None = None

    # -- sending (called from use cases, after their commit) ------------------------------

    def timer_armed(self, due: datetime | None) -> None:
        if not self._timer:
            self._timer, self._timer_due = True, due
        elif self._timer_due is not None:
            self._timer_due = None if due is None else min(due, self._timer_due)
        self._pending.set()

    def notice_owed(self) -> None:
        self._outbox = True
        self._pending.set()

    # -- the connection's task --------------------------------------------------------------

    async def run(self) -> None:
        """Listen and send until cancelled, reconnecting when the connection is lost."""
        pause = RECONNECT_FIRST
        while True:
            lost = asyncio.Event()
            try:
                await self._connect(lost)
                pause = RECONNECT_FIRST
                # Notifications sent while this replica was not listening are gone: look.
                self._on_timer(None)
                self._on_outbox()
                await self._serve(lost)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the server is away: try again, never give up
                log.warning("wake-up listener lost (%s); reconnecting", _describe(error))
            finally:
                self.listening.clear()
                await self._close()
            await asyncio.sleep(pause)
            pause = min(pause * 2, RECONNECT_MAX)

    async def _connect(self, lost: asyncio.Event) -> None:
        import asyncpg

        conn = await asyncpg.connect(
            self._dsn, timeout=10, server_settings={"application_name": APPLICATION_NAME}
        )
        self._conn = conn
        conn.add_termination_listener(lambda _c: lost.set())
        self._pid = conn.get_server_pid()
        await conn.add_listener(CHANNEL, self._heard)
        self.listening.set()

    async def _serve(self, lost: asyncio.Event) -> None:
        while not lost.is_set():
            pending = asyncio.ensure_future(self._pending.wait())
            gone = asyncio.ensure_future(lost.wait())
            try:
                await asyncio.wait({pending, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                pending.cancel()
                gone.cancel()
            if lost.is_set():
                raise ConnectionError("the listening connection was closed")
            await asyncio.sleep(COALESCE)
            await self._send()

    async def _send(self) -> None:
        self._pending.clear()
        payloads = []
        if self._timer:
            payloads.append(encode(Wake.TIMER, self._timer_due))
            self._timer, self._timer_due = False, None
        if self._outbox:
            payloads.append(encode(Wake.OUTBOX))
            self._outbox = False
        try:
            for payload in payloads:
                await self._conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
        except BaseException:
            # Not sent: asked again, to be sent on the next connection.
            for payload in payloads:
                kind, due = decode(payload) or (Wake.OUTBOX, None)
                self.timer_armed(due) if kind is Wake.TIMER else self.notice_owed()
            raise

    def _heard(self, _conn: Any, pid: int, _channel: str, payload: str) -> None:
        if pid == self._pid:
            return  # our own: the local workers were woken directly
        decoded = decode(payload)
        if decoded is None:
            log.warning("unknown wake-up %r ignored", payload[:80])
            return
        self.received += 1
        kind, due = decoded
        if kind is Wake.TIMER:
            self._on_timer(due)  # the engine wakes only if this is earlier than its sleep
        elif self._outbox_later is None:
            self._outbox_later = asyncio.get_running_loop().call_later(
                OUTBOX_DELAY, self._outbox_now
            )

    def _outbox_now(self) -> None:
        self._outbox_later = None
        self._on_outbox()

    async def _close(self) -> None:
        if self._outbox_later is not None:
            self._outbox_later.cancel()
            self._outbox_later = None
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=5)
            if not conn.is_closed():
                conn.terminate()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
