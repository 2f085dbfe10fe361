"""Process settings from the environment, read once at start into a frozen object."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import ConfigError

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./escalator.db"


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    database_url: str
    config_path: str | None

    def __repr__(self) -> str:  # never show secrets, even by accident
        return (
            f"Settings(slack_api_url={self.slack_api_url!r}, "
            f"database_url={make_url(self.database_url).render_as_string(hide_password=True)!r}, "
            f"config_path={self.config_path!r}, secrets=<hidden>)"
        )

    def require_bot_token(self) -> str:
        token = self.slack_bot_token
        if not token:
            raise ConfigError("SLACK_BOT_TOKEN", "is required (the bot token, xoxb-…)")
        if not token.startswith("xox"):
            raise ConfigError("SLACK_BOT_TOKEN", "does not look like a Slack token (xoxb-…)")
        return token

    def require_signing_secret(self) -> str:
        if not self.slack_signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET", "is required (the app's signing secret)")
        return self.slack_signing_secret

    def require_app_token(self) -> str:
        token = self.slack_app_token
        if not token:
            raise ConfigError("SLACK_APP_TOKEN", "is required for Socket Mode (xapp-…)")
        if not token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN", "must be an app-level token (xapp-…)")
        return token


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read the settings from ``environ``; a bad value raises ConfigError naming it."""
    api_url = environ.get("SLACK_API_URL") or DEFAULT_API_URL
    parsed = urlparse(api_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError("SLACK_API_URL", f"is not an http(s) URL: {api_url!r}")
    if not api_url.endswith("/"):
        api_url += "/"
    database_url = environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    _check_database_url(database_url)
    return Settings(
        slack_bot_token=environ.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=environ.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=environ.get("SLACK_APP_TOKEN") or None,
        slack_api_url=api_url,
        database_url=database_url,
        config_path=environ.get("ESCALATOR_CONFIG") or None,
    )


# The drivers DATABASE_URL may name, and the package each needs.
DATABASE_DRIVERS = {"sqlite+aiosqlite": "aiosqlite", "postgresql+asyncpg": "asyncpg"}


def _check_database_url(url: str) -> None:
    """A URL the program can use: a known driver that is installed, and for PostgreSQL a
    database name. (Whether the server answers is found when first connecting.)"""
    usage = (
        "must be an async SQLAlchemy URL such as sqlite+aiosqlite:///./escalator.db "
        "or postgresql+asyncpg://user:password@host:5432/escalator"
    )
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError("DATABASE_URL", usage) from None
    package = DATABASE_DRIVERS.get(parsed.drivername)
    if package is None:
        raise ConfigError("DATABASE_URL", usage)
    if importlib.util.find_spec(package) is None:
        raise ConfigError(
            "DATABASE_URL",
            f"{parsed.drivername} needs the {package} package: pip install 'escalator[postgres]'",
        )
    if parsed.get_backend_name() == "postgresql" and not parsed.database:
        raise ConfigError("DATABASE_URL", "names no database (…@host:5432/escalator)")
