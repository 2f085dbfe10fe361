"""Read models for /metrics."""

from __future__ import annotations

from bot.services.context import Context
from storage import outbox


async def outbox_metrics(ctx: Context) -> str:
    """Prometheus text lines for the outbox, read from the database at scrape time."""
    async with ctx.db.read() as conn:
        stats = await outbox.stats(conn)
    age = 0.0
    if stats.oldest_pending_at is not None:
        age = max(0.0, (ctx.clock.now() - stats.oldest_pending_at).total_seconds())
    return (
        "# HELP escalator_outbox_pending Notices stored and not yet delivered\n"
        "# TYPE escalator_outbox_pending gauge\n"
        f"escalator_outbox_pending {stats.pending}\n"
        "# HELP escalator_outbox_failing Undelivered notices that failed at least once\n"
        "# TYPE escalator_outbox_failing gauge\n"
        f"escalator_outbox_failing {stats.failing}\n"
        "# HELP escalator_outbox_oldest_pending_seconds Age of the oldest undelivered notice\n"
        "# TYPE escalator_outbox_oldest_pending_seconds gauge\n"
        f"escalator_outbox_oldest_pending_seconds {age:.3f}\n"
        "# HELP escalator_outbox_set_aside Notices set aside (refused for good, or failed too "
        "often)\n"
        "# TYPE escalator_outbox_set_aside gauge\n"
        f"escalator_outbox_set_aside {stats.set_aside}\n"
    )
