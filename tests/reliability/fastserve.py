"""``escalator serve`` for the short reliability runs: the real CLI, with two knobs turned.

- Slack's posting pace (one message a second per conversation) would make a test of a few
  hundred notices last minutes; here each conversation may post 200 a second.
- The outbox lease (40 s) is how long a notice claimed by a process that died waits before
  *another* process may send it (the same process, started again, takes its own back at
  once); with ``FASTSERVE_LEASE=3`` in the environment it is 3 s.

Both are ``build()`` parameters; everything else is the production code path:
``bot.cli.main`` with the same arguments. The long runs (``make reliability``) use
``python -m bot.cli`` itself.
"""

from __future__ import annotations

import functools
import os
from datetime import timedelta

from bot import cli, cli_commands
from bot.app import build
from bot.services.delivery import DeliverySettings, Pacing

FAST = Pacing(rate=200.0, burst=200)


def main() -> int:
    settings = DeliverySettings(pacing=FAST)
    lease = os.environ.get("FASTSERVE_LEASE")
    if lease:
        settings = DeliverySettings(pacing=FAST, lease=timedelta(seconds=float(lease)))
    setattr(cli_commands, "build", functools.partial(build, delivery=settings))  # noqa: B010
    return cli.main()


if __name__ == "__main__":
    raise SystemExit(main())
