"""Sharing the month's review in Slack: its figures as a message, and the chart (PNG) and the
month's tickets (CSV) uploaded with slack_sdk's ``files_upload_v2``."""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.review import Review
from bot.services.context import Context
from bot.services.review_files import chart_png, tickets_csv
from bot.slack.review_blocks import review_blocks, review_text

log = logging.getLogger(__name__)


def file_names(review: Review) -> tuple[str, str]:
    return f"review-{review.month}.png", f"tickets-{review.month}.csv"


async def share_files(
    ctx: Context, client: AsyncWebClient, review: Review, channel: str
) -> list[str]:
    """Upload the chart and the CSV into ``channel`` as one message; the files' ids."""
    png = await chart_png(review)
    data = await tickets_csv(ctx, review)
    png_name, csv_name = file_names(review)
    response = await client.files_upload_v2(
        file_uploads=[
            {"content": png, "filename": png_name, "title": f"售后服务月报 {review.month}"},
            {"content": data, "filename": csv_name, "title": f"Tickets {review.month} (CSV)"},
        ],
        channel=channel,
        initial_comment=review_text(review),
    )
    ids = [str(f.get("id")) for f in response.get("files") or []]
    log.info("review %s shared in %s files=%s", review.month, channel, ",".join(ids))
    return ids


async def post_review(ctx: Context, client: AsyncWebClient, review: Review, channel: str) -> None:
    """The review as a message in ``channel``, then its chart and CSV."""
    await client.chat_postMessage(
        channel=channel, text=review_text(review), blocks=review_blocks(review)
    )
    await share_files(ctx, client, review, channel)
