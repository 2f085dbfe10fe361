"""Sharing the month's review in Slack: its figures as a message, and the chart (PNG) and the
month's tickets (CSV) uploaded with slack_sdk's ``files_upload_v2``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.review import Month, Review, parse_month
from bot.domain.service_plan import first_working_day, previous_month
from bot.services.context import Context
from bot.services.delivery.recovery import find_message
from bot.services.review import month_review
from bot.services.review_files import MissingFontError, chart_png, chart_title, tickets_csv
from bot.slack.review_blocks import review_blocks, review_text
from storage import plan as plan_store
from storage.requests import first_time

log = logging.getLogger(__name__)

REVIEW_EVENT = "escalator_review"  # message metadata: the month a review message is of
SENT = "sent"
SUPERSEDED = "superseded"
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)


async def first_share(ctx: Context, request_key: str) -> bool:
    """Whether the request ``request_key`` (``/ticket report``) asks for the review's files
    for the first time: Slack's retry of the command shares them once (SPEC §8)."""
    async with ctx.db.write() as conn:
        return await first_time(conn, request_key, now=ctx.clock.now())


def file_names(review: Review) -> tuple[str, str]:
    return f"review-{review.month}.png", f"tickets-{review.month}.csv"


@dataclass(frozen=True)
class ReviewFiles:
    """The month's chart (PNG) and tickets (CSV), drawn before anything is sent."""

    png: bytes
    csv: bytes


async def review_files(ctx: Context, review: Review) -> ReviewFiles:
    return ReviewFiles(await chart_png(review, ctx.tr), await tickets_csv(ctx, review))


async def share_files(
    ctx: Context,
    client: AsyncWebClient,
    review: Review,
    channel: str,
    files: ReviewFiles | None = None,
) -> list[str]:
    """Upload the chart and the CSV into ``channel`` as one message; the files' ids."""
    files = files or await review_files(ctx, review)
    png_name, csv_name = file_names(review)
    response = await client.files_upload_v2(
        file_uploads=[
            {"content": files.png, "filename": png_name, "title": chart_title(ctx.tr, review)},
            {
                "content": files.csv,
                "filename": csv_name,
                "title": ctx.tr("Tickets %(month)s (CSV)", month=str(review.month)),
            },
        ],
        channel=channel,
        initial_comment=review_text(ctx.tr, review),
    )
    ids = [str(f.get("id")) for f in response.get("files") or []]
    log.info("review %s shared in %s files=%s", review.month, channel, ",".join(ids))
    return ids


def _is_review(message: dict[str, Any], month: Month) -> bool:
    data = message.get("metadata") or {}
    payload = data.get("event_payload") or {}
    return data.get("event_type") == REVIEW_EVENT and payload.get("month") == str(month)


async def post_review(
    ctx: Context, client: AsyncWebClient, review: Review, channel: str
) -> str | None:
    """The review as a message in ``channel``, then its chart and CSV. The files are drawn
    first, so a chart that cannot be drawn posts nothing; once the message is posted, a
    failed upload is returned (and logged), not raised: the review is not posted twice.
    Nor after a try whose end is not known (Slack's answer came too late, the process
    stopped): the message, marked with its month, and the files after it are looked for
    in the channel first."""
    files = await review_files(ctx, review)
    posted = await find_message(client, channel, lambda m: _is_review(m, review.month))
    if posted is None:
        await client.chat_postMessage(
            channel=channel,
            text=review_text(ctx.tr, review),
            blocks=review_blocks(ctx.tr, review),
            metadata={"event_type": REVIEW_EVENT, "event_payload": {"month": str(review.month)}},
        )
    else:
        png_name = file_names(review)[0]
        after = float(posted.get("ts") or 0)
        shared = await find_message(
            client,
            channel,
            lambda m: (
                float(m.get("ts") or 0) > after
                and any(f.get("name") == png_name for f in m.get("files") or [])
            ),
        )
        log.info("review %s found in %s, posted before", review.month, channel)
        if shared is not None:
            return None
    try:
        await share_files(ctx, client, review, channel, files)
    except Exception as error:  # the message is out: say so, do not post it again
        log.warning("review %s posted in %s without its files: %s", review.month, channel, error)
        return f"files not shared: {error}"
    return None


def _post_due(ctx: Context, month: Month) -> datetime:
    """When the review of ``month`` is posted: the first working day of the month after."""
    after = month.next
    return first_working_day(after.year, after.month, ctx.config.calendar)


def latest_due_month(ctx: Context) -> Month:
    """The latest month whose review is due by now (its next month's first working day)."""
    now = ctx.clock.now()
    local = now.astimezone(ctx.config.tz)
    month = Month(*previous_month(local.year, local.month))
    if _post_due(ctx, month) > now:
        month = Month(*previous_month(month.year, month.month))
    return month


async def arm_next_review(ctx: Context) -> datetime:
    """Arm the post of the next review not due yet; returns when it is due."""
    month = latest_due_month(ctx).next
    due = _post_due(ctx, month)
    async with ctx.db.write(background=True) as conn:
        await plan_store.arm_post(conn, str(month), due)
    return due


async def post_due_reviews(
    ctx: Context, client: AsyncWebClient, *, lease: timedelta = timedelta(minutes=10)
) -> int:
    """Post the review that is due (after downtime: the latest month's only, the older ones
    recorded as superseded), then arm the next. Returns how many reviews were posted."""
    now = ctx.clock.now()
    async with ctx.db.write(background=True) as conn:
        months = await plan_store.claim_posts(conn, now=now, lease_until=now + lease)
        if not months:
            return 0
        latest = max(latest_due_month(ctx), *(parse_month(m) for m in months), key=str)
        for month in months:
            if month != str(latest):
                await plan_store.finish_post(conn, month, outcome=SUPERSEDED, now=now)
    channel = ctx.config.report.channel
    try:
        review = await month_review(ctx, latest)
        unshared = await post_review(ctx, client, review, channel)
    except Exception as error:  # nothing was posted: try again later, less and less often
        async with ctx.db.read() as conn:
            attempts = await plan_store.post_attempts(conn, str(latest))
        retry = now + min(RETRY_FIRST * 2 ** min(attempts, 6), RETRY_MAX)
        known = isinstance(error, SlackApiError | SlackClientError | MissingFontError | OSError)
        log.log(
            logging.WARNING if known else logging.ERROR,
            "review %s not posted in %s: %s",
            latest,
            channel,
            error,
            exc_info=not known,
        )
        async with ctx.db.write(background=True) as conn:
            await plan_store.arm_post(conn, str(latest), retry)
            await plan_store.post_failed(conn, str(latest), error=str(error), retry_at=retry)
        return 0
    async with ctx.db.write(background=True) as conn:
        await plan_store.arm_post(conn, str(latest), now)  # when it was not armed (downtime)
        await plan_store.finish_post(
            conn, str(latest), outcome=SENT, now=ctx.clock.now(), error=unshared
        )
    await arm_next_review(ctx)
    return 1
