"""Logging: one line per event, with the ticket and user where they apply; secrets redacted."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

_TOKEN = re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)")


class RedactingFormatter(logging.Formatter):
    """Formats ``level logger message [ticket=#N] [user=U…]`` and hides tokens and secrets."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ticket = getattr(record, "ticket", None)
        user = getattr(record, "user", None)
        if ticket is not None:
            line += f" ticket=#{ticket}"
        if user is not None:
            line += f" user={user}"
        return self.redact(line)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN.sub(lambda m: m.group(0)[:5] + "[redacted]", text)


def setup_logging(secrets: Iterable[str], level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log is a line per request; Slack sends many. Keep warnings only.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
