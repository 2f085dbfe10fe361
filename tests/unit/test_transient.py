"""Which database errors are worth trying again (storage/unavailable.py ``transient``)."""

from __future__ import annotations

import sqlite3

import asyncpg.exceptions
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from storage.unavailable import DatabaseUnavailable, transient, unavailable


class PgError(Exception):
    """An error as SQLAlchemy's asyncpg adapter raises it: with its SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def wrapped(kind: type[DBAPIError], orig: Exception) -> DBAPIError:
    return kind("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    "sqlstate", ["08006", "08001", "57P01", "57P03", "53300", "55000", "40001", "40P01"]
)
def test_postgresql_away_or_in_conflict_is_transient(sqlstate: str) -> None:
    assert transient(wrapped(DBAPIError, PgError(sqlstate)))


@pytest.mark.parametrize("sqlstate", ["23505", "42601", "22001", "42P01"])
def test_a_fault_of_the_statement_is_not(sqlstate: str) -> None:
    assert not transient(wrapped(DBAPIError, PgError(sqlstate)))


def test_sqlite_locked_is_transient_and_a_constraint_is_not() -> None:
    assert transient(wrapped(OperationalError, sqlite3.OperationalError("database is locked")))
    assert not transient(wrapped(IntegrityError, sqlite3.IntegrityError("UNIQUE failed")))
    assert not transient(wrapped(ProgrammingError, sqlite3.ProgrammingError("bad")))


def test_a_dropped_connection_and_an_unopenable_database_are_transient() -> None:
    dropped = DBAPIError("SELECT 1", {}, Exception("closed"), connection_invalidated=True)
    assert transient(dropped)
    assert transient(ConnectionRefusedError())
    assert transient(DatabaseUnavailable("sqlite+aiosqlite:///x.db", "no such directory"))
    assert not transient(ValueError("not a database error"))


# What opening a connection raises on SQLAlchemy 2.0, whose asyncpg adapter does not wrap it
# (2.1 does): asyncpg's own errors. The suite ran on 2.0.30 once answered these with a 500
# and with a traceback instead of the one line.
NOT_ACCEPTING = asyncpg.exceptions.ObjectNotInPrerequisiteStateError(
    'database "escalator" is not currently accepting connections'
)
WRONG_PASSWORD = asyncpg.exceptions.InvalidPasswordError(
    'password authentication failed for user "escalator"'
)
URL = "postgresql+asyncpg://escalator:s3cret@db.example:5433/escalator"


def test_the_drivers_own_error_of_a_server_away_is_transient() -> None:
    assert transient(NOT_ACCEPTING)
    assert transient(asyncpg.exceptions.CannotConnectNowError("the database system is starting up"))
    assert not transient(WRONG_PASSWORD)  # trying again will not mend a wrong password
    assert not transient(asyncpg.exceptions.UniqueViolationError("duplicate key"))


def test_the_drivers_own_error_of_opening_is_the_one_line() -> None:
    problem = unavailable(URL, WRONG_PASSWORD)
    assert problem is not None
    assert str(problem) == (
        "cannot open the database postgresql://escalator@db.example:5433/escalator: "
        'password authentication failed for user "escalator"'
    )
    assert unavailable(URL, ValueError("not a database error")) is None
