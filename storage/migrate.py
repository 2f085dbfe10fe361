"""Alembic, run from the program: ``escalator migrate`` and migrate-on-start.

Replicas that start together on one PostgreSQL database take turns: each migrates inside a
transaction that first takes a transaction-level advisory lock (:data:`MIGRATION_LOCK`), so
the second waits for the first to commit and then finds the schema current. (Without it, two
could both create ``alembic_version`` and one would die of a unique violation.) PostgreSQL's
DDL is transactional, so a replica killed while migrating leaves nothing half-done. SQLite
needs no lock: the transaction holds its one write lock.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.unavailable import unavailable

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock's key (a bigint): the letters "escmigr" in ASCII, constant forever.
MIGRATION_LOCK = int.from_bytes(b"escmigr", "big")


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def migrate(db: Database) -> None:
    """Bring the schema to the newest revision, in one transaction (one replica at a time).
    Raises :class:`storage.db.DatabaseUnavailable` when the database cannot be opened."""
    config = alembic_config(db.url)

    def upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    try:
        conn = await db.engine.connect()
    except Exception as error:  # a bad DATABASE_URL: one line, no traceback (bot/cli.py)
        problem = unavailable(db.url, error)
        if problem is None:
            raise
        raise problem from None
    try:
        async with conn.begin():
            if conn.dialect.name == "postgresql":
                # Held until this transaction ends (or its connection dies).
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            await conn.run_sync(upgrade)
    finally:
        await conn.close()
