"""A DATABASE_URL the program cannot open stops it with one line naming the setting, the host,
port and database, never the password; exit code 2, as for other settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.databases import ON_POSTGRES, server_url
from tests.e2e.test_cli import free_port, run


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_no_server_at_the_port_is_one_line() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+asyncpg://bot:s3cret-pw@127.0.0.1:{port}/escalator"
    result = run("migrate", env={"DATABASE_URL": url})
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("escalator: DATABASE_URL: cannot open the database ")
    assert f"postgresql://bot@127.0.0.1:{port}/escalator" in line
    assert "s3cret-pw" not in result.stderr


def test_a_sqlite_file_in_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "escalator.db"
    result = run("migrate", env={"DATABASE_URL": f"sqlite+aiosqlite:///{path}"})
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line == (
        f"escalator: DATABASE_URL: cannot open the database sqlite file {path}: "
        "unable to open database file"
    )


@pytest.mark.postgres_only
@pytest.mark.parametrize("wrong", ["password", "database"])
def test_a_wrong_password_or_database_is_one_line(wrong: str) -> None:
    assert ON_POSTGRES
    real = make_url(server_url() or "")
    url = (
        real.set(password="not-the-password")
        if wrong == "password"
        else real.set(database="no_such_database")
    )
    text = url.render_as_string(hide_password=False)
    result = run(
        "serve",
        "--port",
        str(free_port()),
        env={
            "DATABASE_URL": text,
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
        },
    )
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert f"{url.host}:{url.port}/{url.database}" in line
    assert "not-the-password" not in result.stderr
    assert str(real.password) not in result.stderr
    reason = "password authentication failed" if wrong == "password" else "does not exist"
    assert reason in line


@pytest.mark.postgres_only
@pytest.mark.parametrize("mode", ["disable", "prefer", "require"])
def test_a_url_with_libpq_sslmode_is_taken(mode: str) -> None:
    """``?sslmode=…``, as PostgreSQL's own tools and hosting providers write it: the bot
    connects with that mode (asyncpg calls it ``ssl``), never stops with a traceback. The
    tests' server has no TLS: ``require`` is refused by it, in one line."""
    assert ON_POSTGRES
    url = make_url(server_url() or "").update_query_dict({"sslmode": mode})
    result = run("migrate", env={"DATABASE_URL": url.render_as_string(hide_password=False)})
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if mode == "require":
        assert result.returncode == 2
        assert one_line(result.stderr).startswith("escalator: DATABASE_URL: cannot open")
    else:
        assert result.returncode == 0, result.stderr


def test_an_option_the_driver_does_not_know_is_one_line() -> None:
    port = free_port()
    url = f"postgresql+asyncpg://bot:s3cret-pw@127.0.0.1:{port}/escalator?no_such_option=1"
    result = run("migrate", env={"DATABASE_URL": url})
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("escalator: DATABASE_URL: cannot open the database ")
    assert "no_such_option" in line
    assert "s3cret-pw" not in result.stderr
