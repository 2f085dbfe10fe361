"""A database that cannot be opened: the one line the program stops with (bot/cli.py).

Wrong password, no server at the address, no such database, a SQLite file in a directory
that is not there: found when the first connection is opened (migrate-on-start), and told
as ``DATABASE_URL`` with host, port and database, never the password.
"""

from __future__ import annotations

from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


class DatabaseUnavailable(Exception):
    """The database at ``DATABASE_URL`` cannot be opened (wrong password, no server, no such
    database, a directory that is not there). Its text names host, port and database, never
    the password."""

    def __init__(self, url: str, reason: str) -> None:
        self.where = where(url)
        self.reason = reason
        super().__init__(f"cannot open the database {self.where}: {reason}")


def where(url: str) -> str:
    """The database a URL names, for messages: ``postgresql://user@host:port/db``, no password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite file {parsed.database or ':memory:'}"
    user = f"{parsed.username}@" if parsed.username else ""
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return f"{parsed.get_backend_name()}://{user}{host}/{parsed.database or ''}"


def unavailable(url: str, error: BaseException) -> DatabaseUnavailable | None:
    """The error of opening a connection as a :class:`DatabaseUnavailable`, or None when it is
    not one that opening a connection raises."""
    if isinstance(error, DBAPIError):
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    elif isinstance(error, OSError | TimeoutError):
        reason = str(error) or type(error).__name__
    else:
        return None
    password = make_url(url).password
    if password:
        reason = reason.replace(str(password), "***")
    return DatabaseUnavailable(url, reason)


def transient(error: BaseException) -> bool:
    """Whether a failed statement met the database away for a while (SQLite's write lock held
    past the busy timeout, a PostgreSQL server restarting, a dropped connection): worth trying
    again. A fault of the statement itself (a constraint, bad SQL) is not."""
    if isinstance(error, OperationalError | InterfaceError | DatabaseUnavailable):
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated)
    return isinstance(error, OSError | TimeoutError)
