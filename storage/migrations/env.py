"""Alembic environment: uses the connection handed in by storage.migrate, or the URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.kb import SEARCH_ONLY_TABLES
from storage.tables import Base

target_metadata = Base.metadata


def _modelled(_object: object, name: str | None, type_: str, reflected: bool, _to: object) -> bool:
    """The knowledge base's full-text index (its postings and term counts) is made by
    migration 0012_kb_postings outside the models: leave it out of the comparison."""
    if not reflected or name is None:
        return True
    if type_ == "table":
        return not name.startswith(SEARCH_ONLY_TABLES)
    return True


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=_modelled,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_url(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_with_url(context.config.get_main_option("sqlalchemy.url") or ""))
