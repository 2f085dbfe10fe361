"""``escalator serve`` for the short reliability runs: the real CLI, with two knobs turned.

- Slack's posting pace (one message a second per channel) would make a test of a few hundred
  notices last minutes; here each channel may post 200 a second.
- The outbox lease (60 s) is how long a notice claimed by a process that died waits before
  another process may send it; with ``FASTSERVE_LEASE=3`` in the environment it is 3 s, so a
  killed bot's claims come back quickly (the kill test sets it; the others keep 60 s).

Everything else is the production code path: ``bot.cli.main`` with the same arguments.
The long runs (``make reliability``) use ``python -m bot.cli`` itself.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from bot import cli
from bot.services import delivery
from storage import outbox

FAST_RATE = 200.0
FAST_BURST = 200


def main() -> int:
    delivery.ChannelPacer.__init__.__defaults__ = (FAST_RATE, FAST_BURST, time.monotonic)
    lease = os.environ.get("FASTSERVE_LEASE")
    if lease:
        outbox.LEASE = timedelta(seconds=float(lease))
    return cli.main()


if __name__ == "__main__":
    raise SystemExit(main())
