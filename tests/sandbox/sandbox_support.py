"""A whole sandbox (stand-in, page, real bot) running in the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from bot.config import load_config
from bot.sandbox.run import Sandbox, sandbox_settings
from bot.settings import load_settings
from bot.slack.i18n import Language


@asynccontextmanager
async def running_sandbox(
    tmp_path: Path, language: Language | None = None
) -> AsyncIterator[Sandbox]:
    """The sandbox on a free port with the demo config and its own SQLite file (in
    ``language`` instead of the config's when given)."""
    settings = load_settings({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"})
    config = load_config(sandbox_settings(settings).config_path)
    if language is not None:
        config = replace(config, language=language)
    sandbox = Sandbox(settings, config, host="127.0.0.1", port=0)
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()
