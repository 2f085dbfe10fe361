"""Process settings from the environment, read once at start into a frozen object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

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
            f"Settings(slack_api_url={self.slack_api_url!r}, database_url={self.database_url!r}, "
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
    if "://" not in database_url or "+" not in database_url.split("://", 1)[0]:
        raise ConfigError(
            "DATABASE_URL",
            "must be an async SQLAlchemy URL such as sqlite+aiosqlite:///./escalator.db "
            "or postgresql+asyncpg://user@host/db",
        )
    return Settings(
        slack_bot_token=environ.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=environ.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=environ.get("SLACK_APP_TOKEN") or None,
        slack_api_url=api_url,
        database_url=database_url,
        config_path=environ.get("ESCALATOR_CONFIG") or None,
    )
