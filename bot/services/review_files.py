"""The month's review as files: a PNG chart (matplotlib, Agg, Chinese labels in a CJK font)
and a CSV of the month's tickets (UTF-8 with a BOM, so spreadsheet programs read Chinese)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.review import CLASSES, MILESTONES, Review
from bot.services.context import Context
from storage import review as review_store

# Preferred first: Simplified Chinese faces of Noto CJK (Debian's fonts-noto-cjk).
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK JP", "Noto Serif CJK SC")
MILESTONE_NAMES = {"respond": "响应", "diagnose": "诊断", "plan": "方案", "resolve": "解决"}
CSV_HEADER = (
    "编号 number",
    "级别 class",
    "状态 state",
    "客户 customer",
    "摘要 summary",
    "报告人 reporter",
    "负责人 assignee",
    "报告时间 reported",
    "响应时间 acknowledged",
    "响应期限 respond due",
    "原因时间 cause",
    "诊断期限 diagnose due",
    "方案时间 plan",
    "方案期限 plan due",
    "解决时间 resolved",
    "解决期限 resolve due",
    "关闭时间 closed",
    "评分 rating",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class MissingFontError(RuntimeError):
    pass


@cache
def cjk_family() -> str:
    """The family name of an installed CJK font, found through matplotlib's font manager."""
    from matplotlib import font_manager  # imported when first needed: it takes a while

    installed = {font.name for font in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    raise MissingFontError(
        "no CJK font for the review's chart: install Noto CJK (Debian: apt-get install "
        "fonts-noto-cjk) and restart"
    )


def _percent(met: int, due: int) -> float:
    return 100.0 * met / due if due else 0.0


def draw_chart(review: Review) -> bytes:
    """The review's chart as PNG bytes: tickets by class, promises kept per milestone, and
    tickets and breaches by customer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    family = cjk_family()
    figure = Figure(figsize=(11, 7.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(f"售后服务月报 {review.month}", fontfamily=family, fontsize=16)
    grid = figure.add_gridspec(2, 2)

    by_class = figure.add_subplot(grid[0, 0])
    counts = [review.by_class[c].tickets for c in CLASSES]
    by_class.bar([f"{c} 类" for c in CLASSES], counts, color="#4a78b5")
    by_class.set_title("按级别的问题数", fontfamily=family)
    by_class.set_ylabel("问题数", fontfamily=family)
    for index, value in enumerate(counts):
        by_class.annotate(str(value), (index, value), ha="center", va="bottom")

    kept = figure.add_subplot(grid[0, 1])
    shares = [_percent(review.total.kept[m].met, review.total.kept[m].due) for m in MILESTONES]
    kept.bar([MILESTONE_NAMES[m] for m in MILESTONES], shares, color="#3d9970")
    kept.set_ylim(0, 105)
    kept.set_title("按时达成率 (%)", fontfamily=family)
    for index, m in enumerate(MILESTONES):
        k = review.total.kept[m]
        kept.annotate(f"{k.met}/{k.due}", (index, shares[index]), ha="center", va="bottom")

    customers = figure.add_subplot(grid[1, :])
    names = [name or "无客户" for name in review.by_customer] or ["—"]
    groups = list(review.by_customer.values())
    positions = list(range(len(names)))
    customers.bar(
        [p - 0.2 for p in positions],
        [g.tickets for g in groups] or [0],
        0.4,
        label="问题数",
        color="#4a78b5",
    )
    customers.bar(
        [p + 0.2 for p in positions],
        [g.breaches for g in groups] or [0],
        0.4,
        label="超时",
        color="#d9534f",
    )
    many = len(names) > 6
    customers.set_xticks(
        positions,
        names,
        fontfamily=family,
        rotation=45 if many else 0,
        ha="right" if many else "center",
    )
    for axes in (by_class, customers):
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    customers.set_title("按客户", fontfamily=family)
    customers.legend(prop={"family": family})
    for axes in (by_class, kept, customers):
        for label in axes.get_xticklabels():
            label.set_fontfamily(family)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


async def chart_png(review: Review) -> bytes:
    """:func:`draw_chart` off the event loop (drawing takes a good part of a second)."""
    return await asyncio.to_thread(draw_chart, review)


def _cell(value: Any, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text  # a spreadsheet must not run what a reporter typed as a formula
    return text


async def tickets_csv(ctx: Context, review: Review) -> bytes:
    """The month's tickets as CSV, UTF-8 with a BOM; times local, ``YYYY-MM-DD HH:MM``."""
    tz = ctx.config.tz
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    async with ctx.db.read() as conn:
        rows = await review_store.ticket_rows(conn, review.start, review.end)
    for row in rows:
        writer.writerow([f"#{row[0]}", *(_cell(v, tz) for v in row[1:])])
    return out.getvalue().encode("utf-8-sig")
