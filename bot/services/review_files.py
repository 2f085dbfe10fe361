"""The month's review as files: a PNG chart (matplotlib, Agg, in a CJK font, which also
has Latin letters) and a CSV of the month's tickets (UTF-8 with a BOM, so spreadsheet
programs read Chinese). Both in the workspace's language (SPEC §3 ``language``): the chart's
labels and the CSV's header and ticket states come from the catalogs."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.domain.review import CLASSES, MILESTONES, Review
from bot.domain.tickets import TicketState
from bot.services.context import Context
from bot.slack.i18n import C_, Translator
from storage import review as review_store

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Preferred first: Simplified Chinese faces of Noto CJK (Debian's fonts-noto-cjk).
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK JP", "Noto Serif CJK SC")
# The CSV's columns (storage.review.CSV_COLUMNS), as its header names them.
CSV_HEADER = (
    C_("review CSV column", "number"),
    C_("review CSV column", "class"),
    C_("review CSV column", "state"),
    C_("review CSV column", "customer"),
    C_("review CSV column", "summary"),
    C_("review CSV column", "reporter"),
    C_("review CSV column", "assignee"),
    C_("review CSV column", "reported"),
    C_("review CSV column", "acknowledged"),
    C_("review CSV column", "respond due"),
    C_("review CSV column", "cause"),
    C_("review CSV column", "diagnose due"),
    C_("review CSV column", "plan"),
    C_("review CSV column", "plan due"),
    C_("review CSV column", "resolved"),
    C_("review CSV column", "resolve due"),
    C_("review CSV column", "closed"),
    C_("review CSV column", "rating"),
)
STATE_COLUMN = 2
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


def draw_chart(review: Review, tr: Translator) -> bytes:
    """The review's chart as PNG bytes, in the language of ``tr``: tickets by class, promises
    kept per milestone, and tickets and breaches by customer."""
    out = io.BytesIO()
    chart_figure(review, tr).savefig(out, format="png")
    return out.getvalue()


def chart_figure(review: Review, tr: Translator) -> Figure:
    """The figure of :func:`draw_chart`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    family = cjk_family()
    figure = Figure(figsize=(11, 7.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    title = chart_title(tr, review)
    figure.suptitle(title, fontfamily=family, fontsize=16)
    grid = figure.add_gridspec(2, 2)

    by_class = figure.add_subplot(grid[0, 0])
    counts = [review.by_class[c].tickets for c in CLASSES]
    names = [tr("Class %(severity)s", severity=c) for c in CLASSES]
    by_class.bar(names, counts, color="#4a78b5")
    by_class.set_title(tr("Tickets by class"), fontfamily=family)
    by_class.set_ylabel(tr("Tickets"), fontfamily=family)
    for index, value in enumerate(counts):
        by_class.annotate(str(value), (index, value), ha="center", va="bottom")

    kept = figure.add_subplot(grid[0, 1])
    shares = [_percent(review.total.kept[m].met, review.total.kept[m].due) for m in MILESTONES]
    kept.bar([tr.milestone(m) for m in MILESTONES], shares, color="#3d9970")
    kept.set_ylim(0, 105)
    kept.set_title(tr("Promises kept (percent)"), fontfamily=family)
    for index, m in enumerate(MILESTONES):
        k = review.total.kept[m]
        kept.annotate(f"{k.met}/{k.due}", (index, shares[index]), ha="center", va="bottom")

    customers = figure.add_subplot(grid[1, :])
    names = [name or tr("No customer") for name in review.by_customer] or ["—"]
    groups = list(review.by_customer.values())
    positions = list(range(len(names)))
    customers.bar(
        [p - 0.2 for p in positions],
        [g.tickets for g in groups] or [0],
        0.4,
        label=tr("Tickets"),
        color="#4a78b5",
    )
    customers.bar(
        [p + 0.2 for p in positions],
        [g.breaches for g in groups] or [0],
        0.4,
        label=tr("Breaches"),
        color="#d9534f",
    )
    many = len(names) > 6
    customers.set_xticks(
        positions,
        names,
        fontfamily=family,
        rotation=45 if many else 0,
        ha="right" if many else "center",
        parse_math=False,  # names as written: "R$ 5 & Co" is no formula
    )
    for axes in (by_class, customers):  # counts: whole numbers from 0, also in an empty month
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylim(0, max(axes.get_ylim()[1], 1))
    customers.set_title(tr("By customer"), fontfamily=family)
    customers.legend(prop={"family": family})
    for axes in (by_class, kept, customers):
        for label in axes.get_xticklabels():
            label.set_fontfamily(family)
    return figure


def chart_title(tr: Translator, review: Review) -> str:
    return tr("Support report %(month)s", month=str(review.month))


async def chart_png(review: Review, tr: Translator) -> bytes:
    """:func:`draw_chart` off the event loop (drawing takes a good part of a second)."""
    return await asyncio.to_thread(draw_chart, review, tr)


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
    """The month's tickets as CSV, UTF-8 with a BOM; times local, ``YYYY-MM-DD HH:MM``; the
    header and the states in the workspace's language."""
    tz, tr = ctx.config.tz, ctx.tr
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([tr.marked(column) for column in CSV_HEADER])
    async with ctx.db.read() as conn:
        rows = await review_store.ticket_rows(conn, review.start, review.end)
    states = {state.value: tr.word(state) for state in TicketState}
    for row in rows:
        cells = [f"#{row[0]}", *(_cell(v, tz) for v in row[1:])]
        cells[STATE_COLUMN] = states.get(cells[STATE_COLUMN], cells[STATE_COLUMN])
        writer.writerow(cells)
    return out.getvalue().encode("utf-8-sig")
