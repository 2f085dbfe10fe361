"""The month's review from SQL, with known tickets giving known figures; its CSV and chart."""

from __future__ import annotations

import contextlib
import csv
import io
import random
import warnings
from dataclasses import replace
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update

from bot.config import parse_config
from bot.domain.review import Month, Review, parse_month, spread
from bot.domain.service_plan import PlanTask
from bot.domain.tickets import ReportDraft, kept
from bot.domain.workflow import Step
from bot.errors import UserError
from bot.services import plan
from bot.services.context import Context
from bot.services.intake import report
from bot.services.review import month_review
from bot.services.review_files import chart_figure, chart_png, tickets_csv
from bot.services.steps import run_step
from bot.sla.policy import Severity
from bot.slack.i18n import Language, translator
from bot.slack.review_blocks import review_blocks
from storage import plan as plan_store
from storage.db import Database
from storage.review import deadline_values
from storage.tables import TicketRow
from storage.tickets import TICKETS, to_ticket
from tests.conftest import CONFIG_DATA
from tests.fakes import FakeClock
from tests.integration.review_support import known_month
from tests.integration.support import opened

NOVEMBER = Month(2026, 11)


async def test_known_tickets_give_known_figures(ctx: Context, clock: FakeClock) -> None:
    await known_month(ctx, clock)
    review = await month_review(ctx, NOVEMBER)
    assert {c: g.tickets for c, g in review.by_class.items()} == {"A": 1, "B": 1, "C": 1, "D": 0}
    kept = {m: (k.met, k.due) for m, k in review.total.kept.items()}
    assert kept == {"respond": (2, 3), "diagnose": (1, 2), "plan": (1, 1), "resolve": (0, 0)}
    assert review.total.kept["respond"].share == pytest.approx(2 / 3)
    assert review.total.breaches == 2
    assert review.by_class["B"].breaches == 2 and review.by_class["A"].breaches == 0
    assert review.respond.count == 3
    assert review.respond.median == pytest.approx(40 * 60, abs=0.01)
    assert review.respond.p90 == pytest.approx(60 * 60, abs=0.01)
    assert review.resolve.count == 1
    assert review.resolve.median == pytest.approx(120 * 60, abs=0.01)
    assert review.resolve.p90 == pytest.approx(120 * 60, abs=0.01)
    assert (review.total.signoffs.count, review.total.signoffs.average) == (1, 4.0)
    assert review.total.closed == 1
    assert review.answered_at_once == 0
    assert list(review.by_customer) == ["", "Highway Monitoring Center"]
    highway = review.by_customer["Highway Monitoring Center"]
    assert (highway.tickets, highway.breaches, highway.kept["respond"].met) == (1, 0, 1)
    assert review.by_customer[""].tickets == 2
    # Another month has none of them.
    empty = await month_review(ctx, Month(2026, 10))
    assert empty.total.tickets == 0 and empty.respond.median is None


async def test_deadlines_stored_before_are_worked_out_again(ctx: Context, clock: FakeClock) -> None:
    await known_month(ctx, clock)
    async with ctx.db.write() as conn:  # as a database from before the review kept deadlines
        await conn.execute(
            update(TicketRow).values(
                respond_due=None, diagnose_due=None, plan_due=None, deadlines_version=None
            )
        )
    review = await month_review(ctx, NOVEMBER)
    assert review.total.kept["respond"].met == 2 and review.total.breaches == 2
    async with ctx.db.read() as conn:
        versions = (await conn.execute(select(TicketRow.deadlines_version))).scalars().all()
    assert None not in versions


def test_spread_is_the_median_and_the_nearest_rank_p90() -> None:
    assert spread([]).median is None
    found = spread([float(n) for n in range(1, 11)])
    assert (found.count, found.median, found.p90) == (10, 5.5, 9.0)
    assert spread([1.0, 2.0, 30.0]).p90 == 30.0


@pytest.mark.parametrize(
    "text", ["2026-13", "26-10", "october", "2026-1", "", "1999-12", "9999-12"]
)
def test_a_bad_month_is_refused(text: str) -> None:
    with pytest.raises(UserError, match="YYYY-MM"):
        parse_month(text)


async def test_the_csv_has_the_months_tickets(ctx: Context, clock: FakeClock) -> None:
    await known_month(ctx, clock)
    review = await month_review(ctx, NOVEMBER)
    data = await tickets_csv(ctx, review)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["number", "class", "state"] and len(rows) == 4
    first, second, third = rows[1:]
    assert first[:4] == ["#1", "A", "closed", ""]
    assert first[4] == "数据库停了"
    assert first[7] == "2026-11-23 10:00" and first[8] == "2026-11-23 10:10"
    assert first[9] == "2026-11-23 10:15" and first[17] == "4"
    assert second[4] == "'=cmd|' /C calc'!A0"  # not a formula in a spreadsheet
    assert third[3] == "Highway Monitoring Center" and third[2] == "acknowledged"
    # a Chinese workspace's CSV: the header and the states in Chinese, the data as typed
    chinese = replace(ctx, config=parse_config({**CONFIG_DATA, "language": "zh-CN"}))
    rows = list(csv.reader(io.StringIO((await tickets_csv(chinese, review)).decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "类别", "状态"] and rows[0][-1] == "评分"
    assert rows[1][:3] == ["#1", "A", "已关闭"] and rows[3][2] == "已确认"
    assert rows[1][4] == "数据库停了" and rows[1][7] == "2026-11-23 10:00"


async def test_the_chart_is_a_png_with_every_glyph(ctx: Context, clock: FakeClock) -> None:
    await known_month(ctx, clock)
    review = await month_review(ctx, NOVEMBER)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)"
        pngs = [await chart_png(review, translator(language)) for language in Language]
    for png in pngs:
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.size == (1100, 750)
    assert pngs[0] != pngs[1]  # labelled in each language


async def named(ctx: Context, clock: FakeClock, names: list[str]) -> Review:
    """November's review with its first customer's figures under each of ``names``."""
    await known_month(ctx, clock)
    review = await month_review(ctx, NOVEMBER)
    group = next(iter(review.by_customer.values()))
    return replace(review, by_customer=dict.fromkeys(names, group))


async def test_customer_names_are_drawn_as_written_not_as_formulas(
    ctx: Context, clock: FakeClock
) -> None:
    names = ["US$ 100% Corp $", "$$Cash", "Cost$\\x$Center", "R$ 5 & R$ 10 Club"]
    odd = await named(ctx, clock, names)
    png = await chart_png(odd, translator(Language.EN))  # a formula parser raised on these
    assert Image.open(io.BytesIO(png)).format == "PNG"


async def test_long_customer_names_fill_the_message_by_whole_lines(
    ctx: Context, clock: FakeClock
) -> None:
    many = await named(ctx, clock, [f"{i} " + "R&D <Ops> " * 40 for i in range(20)])
    section = review_blocks(translator(Language.EN), many)[-1]["text"]["text"]
    assert len(section) <= 3000
    lines = section.split("\n")
    assert lines[-1].startswith("…and ") and lines[-1].endswith("more (see the CSV)")
    for line in lines[1:-1]:  # each customer's line whole, its name cut and escaped
        assert line.startswith("• *") and "*: " in line and line.count("*") == 2
        assert "<" not in line and not line.split("*")[1].endswith(("&", "&a", "&am", "&amp"))


async def test_plan_tasks_and_surveys_in_the_review(db: Database, clock: FakeClock) -> None:
    data = dict(CONFIG_DATA)
    data["customers"] = [
        {
            "name": "Highway Monitoring Center",
            "channel": "C0CUST1",
            "owner": "U0ENG2",
            "contacts": ["U0CUST"],
            "plan": {"call": "1w", "survey": "1w", "visit": "", "inspection": "", "training": ""},
        }
    ]
    ctx = Context(db=db, config=parse_config(data), clock=clock)
    await plan.sync(ctx)  # Monday 11-23: the call and the survey weekly from 11-30

    async def week() -> dict[PlanTask, int]:
        await clock.advance(timedelta(days=7))
        await plan.fire_due(ctx)
        async with db.read() as conn:  # the newest open occurrence of each task
            return {t.task: t.id for t in await plan_store.open_tasks(conn)}

    first = await week()  # 11-30
    await plan.done(ctx, first[PlanTask.CALL], "U0ENG2")
    await plan.answer_survey(ctx, first[PlanTask.SURVEY], "U0CUST", rating=5, comment="")
    second = await week()  # 12-07
    await plan.skip(ctx, second[PlanTask.CALL], "U0ENG2", "holiday")
    await week()  # 12-14: the 12-07 survey is now overdue

    november = await month_review(ctx, NOVEMBER)
    kept = november.total.plan
    assert (kept.due, kept.done, kept.skipped, kept.overdue) == (2, 2, 0, 0)
    assert (november.total.surveys.count, november.total.surveys.average) == (1, 5.0)
    assert november.by_customer["Highway Monitoring Center"].plan.done == 2
    december = await month_review(ctx, Month(2026, 12))
    kept = december.total.plan
    assert (kept.due, kept.done, kept.skipped, kept.overdue) == (4, 0, 1, 1)
    assert december.total.surveys.count == 0


async def test_the_sql_counts_promises_kept_as_the_domain_rule_does(
    ctx: Context, clock: FakeClock
) -> None:
    """The review counts promises kept in SQL (storage/review.py); the rule itself is
    bot.domain.tickets.kept. A month of tickets worked at random, some acknowledged late,
    some reopened, some left running: the two give the same counts for every milestone."""
    rng = random.Random(20261129)
    severities = [Severity.A, Severity.B, Severity.C, Severity.D]
    for n in range(24):
        await opened(ctx, n, rng.choice(severities))
        await clock.advance(timedelta(minutes=rng.randint(1, 20)))
        if rng.random() < 0.6:  # acknowledged at once, in time or nearly
            await run_step(ctx, number=n + 1, step=Step("ack"), user_id="U0ENG1")
        await clock.advance(timedelta(minutes=rng.randint(1, 90)))
    story = [
        Step("ack"),
        Step("cause", text="found"),
        Step("plan", text="the plan"),
        Step("resolve", text="done"),
        Step("reopen", text="again"),
        Step("ack"),
    ]
    for _ in range(60):
        number = rng.randint(1, 24)
        await clock.advance(timedelta(minutes=rng.randint(1, 240)))
        for step in story[: rng.randint(1, len(story))]:
            with contextlib.suppress(UserError):  # not this ticket's next step: no change
                await run_step(ctx, number=number, step=step, user_id="U0ENG1")
    review = await month_review(ctx, NOVEMBER)
    now = clock.now()
    expected = {name: [0, 0] for name in review.total.kept}
    async with ctx.db.read() as conn:
        tickets = [to_ticket(row) for row in await conn.execute(select(TICKETS))]
    assert {t.reported_at.month for t in tickets} == {11}
    for ticket in tickets:
        promised = ctx.promised(ticket, ctx.schedule(ticket)).deadlines
        assert promised is not None
        for name, in_time in kept(ticket, promised, now).items():
            expected[name][0] += int(in_time)
            expected[name][1] += 1
    got = {name: [k.met, k.due] for name, k in review.total.kept.items()}
    assert got == expected
    assert any(due > met for met, due in got.values())  # some promises were broken


async def test_a_report_stores_its_deadlines_in_the_tickets_own_insert(
    ctx: Context, clock: FakeClock
) -> None:
    """A report stores each new ticket's deadlines as promised and its next one due (what
    the month's review and the lists read) in the INSERT of the ticket itself: what
    storage.review.deadline_values gives for the ticket as the rules work it out."""
    for severity in (Severity.A, Severity.B, Severity.C, Severity.D):
        await opened(ctx, ord(severity.value), severity)
    async with ctx.db.read() as conn:
        rows = list(await conn.execute(select(TICKETS).order_by(TICKETS.c.number)))
    assert len(rows) == 4
    for row in rows:
        ticket = to_ticket(row)
        expected = deadline_values(ticket, ctx.promised(ticket, ctx.schedule(ticket)))
        assert expected["respond_due"] is not None and expected["deadlines_version"] == 1
        assert {name: getattr(row, name) for name in expected} == expected


async def test_milestones_met_before_a_wait_still_count(ctx: Context, clock: FakeClock) -> None:
    """A C ticket acknowledged and diagnosed in time, then waiting for the customer at the
    review: its clock is stopped (the plan's deadline is not known), but the respond and
    diagnose promises were kept before the wait and count as kept."""
    number = await opened(ctx, 1, Severity.C)
    for step in (Step("ack"), Step("cause", text="a full disk"), Step("wait")):
        await clock.advance(timedelta(minutes=10))
        await run_step(ctx, number=number, step=step, user_id="U0ENG1")
    await clock.advance(timedelta(days=2))
    review = await month_review(ctx, NOVEMBER)
    kept = {m: (k.met, k.due) for m, k in review.total.kept.items()}
    assert kept == {"respond": (1, 1), "diagnose": (1, 1), "plan": (0, 0), "resolve": (0, 0)}
    assert review.total.breaches == 0


async def test_no_promise_is_broken_after_the_ticket_was_closed(
    ctx: Context, clock: FakeClock
) -> None:
    """An out-of-warranty request declined by a manager, and a ticket closed as a duplicate
    minutes after its report, owe nothing after they were closed: their later deadlines
    are no breaches. A deadline that passed before the close stays one."""
    old_mill = ReportDraft(
        summary="an old system",
        details="details",
        system="",
        severity=Severity.C,
        reporter_id="U0REP",
        origin_channel="C0CUST2",
    )
    declined = (await report(ctx, draft=old_mill, intake_key=None)).ticket.number
    duplicate = await opened(ctx, 2, Severity.B)
    late = await opened(ctx, 3, Severity.A)
    await clock.advance(timedelta(minutes=10))
    await run_step(ctx, number=declined, step=Step("decline", text="no contract"), user_id="U0MGR1")
    await run_step(ctx, number=duplicate, step=Step("close", text="same as #3"), user_id="U0ENG1")
    await clock.advance(timedelta(minutes=10))  # #3's respond deadline (15 min) has passed
    await run_step(ctx, number=late, step=Step("close", text="gone"), user_id="U0MGR1")
    await clock.advance(timedelta(days=7))
    review = await month_review(ctx, NOVEMBER)
    kept = {m: (k.met, k.due) for m, k in review.total.kept.items()}
    assert kept == {"respond": (0, 1), "diagnose": (0, 0), "plan": (0, 0), "resolve": (0, 0)}
    assert review.by_class["A"].breaches == 1 and review.total.breaches == 1


async def test_an_empty_months_chart_counts_from_zero_in_whole_numbers(
    ctx: Context, clock: FakeClock
) -> None:
    """A month with no tickets: the axes that count tickets and breaches run from 0 in whole
    numbers (not from -0.045 to 0.045, as matplotlib centres an empty bar chart)."""
    review = await month_review(ctx, Month(2026, 10))
    figure = chart_figure(review, translator(Language.ZH_CN))
    by_class, _, customers = figure.axes
    for axes in (by_class, customers):
        low, high = axes.get_ylim()
        assert low == 0 and high >= 1
        ticks = [t for t in axes.get_yticks() if low <= t <= high]
        assert ticks and all(t >= 0 and float(t).is_integer() for t in ticks)


async def test_a_promise_kept_before_a_reclassification_stays_kept(
    ctx: Context, clock: FakeClock
) -> None:
    """A C ticket acknowledged after an hour (in time: C has 4 working hours) and made A an
    hour later: its respond promise was kept as a C ticket; the A deadline (15 minutes
    after the report) holds only the milestones still open, as diagnose, then past."""
    number = await opened(ctx, 1, Severity.C)
    await clock.advance(timedelta(hours=1))
    await run_step(ctx, number=number, step=Step("ack"), user_id="U0ENG1")
    await clock.advance(timedelta(hours=1))
    worse = Step("severity", severity=Severity.A, text="the whole line is down")
    await run_step(ctx, number=number, step=worse, user_id="U0ENG1")
    await clock.advance(timedelta(minutes=1))
    review = await month_review(ctx, NOVEMBER)
    kept = {m: (k.met, k.due) for m, k in review.total.kept.items()}
    assert kept == {"respond": (1, 1), "diagnose": (0, 1), "plan": (0, 0), "resolve": (0, 0)}


async def test_the_csv_shows_the_acknowledgement_the_review_counts(
    ctx: Context, clock: FakeClock
) -> None:
    """A ticket acknowledged in time, resolved, then reopened and not yet acknowledged again:
    the review counts its respond promise as kept (the first acknowledgement against the
    deadline first promised); the CSV's row shows that acknowledgement beside that deadline."""
    number = await opened(ctx, 1, Severity.B)
    await clock.advance(timedelta(minutes=10))
    for step in (Step("ack"), Step("resolve", text="done"), Step("reopen", text="again")):
        await run_step(ctx, number=number, step=step, user_id="U0ENG1")
        await clock.advance(timedelta(minutes=5))
    review = await month_review(ctx, NOVEMBER)
    assert (review.total.kept["respond"].met, review.total.kept["respond"].due) == (1, 1)
    rows = list(csv.reader(io.StringIO((await tickets_csv(ctx, review)).decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    assert row[header.index("acknowledged")] == "2026-11-23 10:10"
    assert row[header.index("respond due")] == "2026-11-23 10:30"
