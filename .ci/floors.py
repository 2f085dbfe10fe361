"""The lowest versions `pyproject.toml` allows of the stack's own packages, as a pip
constraints file (one `name==version` a line).

`make test-floors` installs these into a venv of their own and runs the suite there, so the
ranges stay ones the code really works with: the code once relied on what only SQLAlchemy
2.1 does (wrapping asyncpg's errors of opening a connection), unseen while every run
installed the newest.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

STACK = ("slack-bolt", "slack-sdk", "SQLAlchemy", "aiosqlite")


def floors(pyproject: Path) -> list[str]:
    dependencies = tomllib.loads(pyproject.read_text("utf-8"))["project"]["dependencies"]
    pins = []
    for name in STACK:
        spec = next(d for d in dependencies if re.match(rf"{re.escape(name)}(\[|>|=|<|$)", d))
        lowest = re.search(r">=\s*([\w.]+)", spec)
        if lowest is None:
            sys.exit(f"{spec!r} names no lowest version")
        pins.append(f"{name}=={lowest.group(1)}")  # constraints take no extras
    return pins


if __name__ == "__main__":
    print("\n".join(floors(Path(__file__).resolve().parents[1] / "pyproject.toml")))
