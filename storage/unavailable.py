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
    elif _sqlstate(error) is not None:  # the server's refusal, as the driver raised it
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    elif isinstance(error, TypeError) and "unexpected keyword argument" in str(error):
        # an option in the URL's query that the driver does not take (``?no_such=1``)
        option = str(error).rpartition("argument")[2].strip(" '\"")
        reason = f"the driver takes no connection option {option!r}"
    else:
        return None
    password = make_url(url).password
    if password:
        reason = reason.replace(str(password), "***")
    return DatabaseUnavailable(url, reason)


# PostgreSQL's SQLSTATEs of a database away for a while: connection exceptions (08), a
# server shutting down or starting (57P01-57P03), out of connections or memory (53), a database
# that takes no connections for now (55000 "not currently accepting connections"); and the
# conflicts a transaction tried again gets past (serialization failure, deadlock).
_TRANSIENT_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53", "55000", "40001", "40P01")


def transient(error: BaseException) -> bool:
    """Whether a failed statement met the database away for a while (SQLite's write lock held
    past the busy timeout, a PostgreSQL server restarting, a dropped connection): worth trying
    again. A fault of the statement itself (a constraint, bad SQL) is not."""
    if isinstance(error, DatabaseUnavailable | OSError | TimeoutError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    sqlstate = _sqlstate(error)
    if sqlstate is not None:
        return sqlstate.startswith(_TRANSIENT_SQLSTATES)
    # SQLite (no SQLSTATE): "database is locked" and other lock and I/O waits are
    # OperationalErrors; the driver's InterfaceError is a connection gone.
    return isinstance(error, OperationalError | InterfaceError)


def _sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database server's error, wrapped by SQLAlchemy (a DBAPIError's
    ``orig``) or as the driver raised it: SQLAlchemy 2.1 wraps what opening a connection
    raises, 2.0's asyncpg adapter lets it through as asyncpg's own error
    (``InvalidPasswordError``, ``ObjectNotInPrerequisiteStateError`` for a database not
    accepting connections...). asyncpg calls it ``sqlstate``, psycopg2 ``pgcode``."""
    driver = error.orig if isinstance(error, DBAPIError) else error
    sqlstate = getattr(driver, "sqlstate", None) or getattr(driver, "pgcode", None)
    return sqlstate if isinstance(sqlstate, str) else None
