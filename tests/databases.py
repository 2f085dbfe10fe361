"""Which database the suite runs on, and throw-away databases for tests.

The suite runs on SQLite files unless ``ESCALATOR_TEST_DATABASE`` names a PostgreSQL server
(``postgresql+asyncpg://user:password@host:port/maintenance-db``; `.ci/start-postgres.sh`
starts one). Then each test gets a database of its own, made with ``CREATE DATABASE …
TEMPLATE`` from one migrated at the start of the session (a copy of a few pages, much faster
than running the migrations per test), and dropped after it.

Admin statements (CREATE/DROP DATABASE) run on a connection of their own in a worker thread,
with a loop of their own, so they work from sync fixtures and never touch a test's loop.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import make_url

TEST_DATABASE_ENV = "ESCALATOR_TEST_DATABASE"
T = TypeVar("T")


def server_url() -> str | None:
    """The PostgreSQL server the suite runs on, or None for SQLite."""
    url = os.environ.get(TEST_DATABASE_ENV, "").strip()
    if not url:
        return None
    if not url.startswith("postgresql+asyncpg://"):
        raise RuntimeError(f"{TEST_DATABASE_ENV} must be a postgresql+asyncpg:// URL, not {url!r}")
    return url


ON_POSTGRES = server_url() is not None


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _in_thread(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` on a loop of its own in a worker thread, and return what it returned."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = asyncio.run(work())  # type: ignore[arg-type]
        except BaseException as error:  # handed to the caller's thread
            out["error"] = error

    thread = threading.Thread(target=target, name="test-db-admin")
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]  # type: ignore[no-any-return]


def _dsn(url: str) -> str:
    """An SQLAlchemy asyncpg URL as a libpq DSN for asyncpg itself."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresServer:
    """Databases on one server, named ``escalator_t_…`` so a leftover is easy to recognise."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.template: str | None = None

    def url_of(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def admin(self, *statements: str) -> None:
        async def work() -> None:
            import asyncpg

            conn = await asyncpg.connect(_dsn(self.url))
            try:
                for statement in statements:
                    await conn.execute(statement)
            finally:
                await conn.close()

        _in_thread(work)

    def fetch(self, url: str, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """Rows of one query on the database at ``url``; ``?`` placeholders as in sqlite3."""
        counter = iter(range(1, 10_000))
        numbered = re.sub(r"\?", lambda _m: f"${next(counter)}", sql)

        async def work() -> list[tuple[Any, ...]]:
            import asyncpg

            conn = await asyncpg.connect(_dsn(url))
            try:
                return [tuple(r) for r in await conn.fetch(numbered, *args)]
            finally:
                await conn.close()

        return _in_thread(work)

    def create(self, *, template: str | None = None) -> str:
        """A new database (a copy of ``template``, else empty); its name."""
        name = f"escalator_t_{uuid.uuid4().hex[:12]}"
        source = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else " TEMPLATE template0"
        self.admin(f'CREATE DATABASE "{name}"{source}')
        return name

    def drop(self, name: str) -> None:
        # FORCE: a test that killed a serve process may leave its connections behind.
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def migrated_template(self) -> str:
        """The session's migrated database, made on first use (see :func:`make_template`)."""
        if self.template is None:
            name = self.create()
            try:
                _in_thread(lambda: _migrate(self.url_of(name)))
                self.admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            except BaseException:
                self.drop(name)
                raise
            self.template = name
        return self.template

    def close(self) -> None:
        if self.template is not None:
            self.drop(self.template)
            self.template = None


async def _migrate(url: str) -> None:
    from storage.db import Database
    from storage.migrate import migrate

    db = Database(url)
    try:
        await migrate(db)
    finally:
        await db.close()


def query(url: str, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """One query on the database at ``url`` (SQLite file or PostgreSQL), ``?`` placeholders."""
    if url.startswith("sqlite"):
        import sqlite3

        path = make_url(url).database
        conn = sqlite3.connect(str(path), timeout=30)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()
    return PostgresServer(url).fetch(url, sql, *args)
