"""Every builder a person reads renders in both languages, and the Chinese has no English
left in it (but for what is not ours to translate: mentions, commands, ticket refs, …)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import regex

from bot.domain.read_models import EventView, HomeData, Listed, TicketView
from bot.domain.roles import WHO_MAY, Actor, Duty, check_duty, check_role
from bot.domain.rotation import OnCall
from bot.domain.service_plan import PlanTask
from bot.domain.tickets import TicketState, report_errors
from bot.domain.workflow import Change, Prompt, Step, apply
from bot.errors import UserError
from bot.handlers.help import commands_text
from bot.services.steps import reply_for
from bot.sla.policy import DEFAULT_POLICY, Severity
from bot.slack import blocks, plan_blocks, report_form, ticket_card
from bot.slack.i18n import Language, translator
from bot.slack.oncall_text import oncall_answer, override_taken
from bot.slack.thread_text import story_line
from bot.slack.ticket_parser import CHINESE_NAMES, USAGE, help_text, parse
from bot.slack.triage_text import MEANING_TEXT, QUESTION_TEXT, meaning
from bot.slack.views import home_view, list_blocks, show_blocks
from tests.factories import NOW, make_ticket
from tests.i18n.english import english_words, texts_of

ZH = translator(Language.ZH_CN)
EN = translator(Language.EN)
USER_TEXT = "磁盘满了"  # what people type is in Chinese here


def chinese_only(*texts: str) -> None:
    for text in texts:
        assert english_words(text) == [], text


def worked_ticket() -> object:
    return make_ticket(
        state=TicketState.PLANNED,
        summary="收费系统全部停止",
        details=USER_TEXT,
        assignee_id="U0ENG1",
        cause=USER_TEXT,
        plan=USER_TEXT,
        resolution=USER_TEXT,
        fix_date=date(2026, 12, 1),
        rating=5,
        rating_comment=USER_TEXT,
        extra={"declined_reason": USER_TEXT},
    )


@pytest.mark.parametrize("kind", sorted(WHO_MAY))
def test_every_thread_line_and_reply_reads_in_chinese(kind: str) -> None:
    ticket = worked_ticket()
    change = Change(ticket, kind, {"severity": "B"}, {"text": USER_TEXT})  # type: ignore[arg-type]
    chinese_only(story_line(ZH, change, "U0ENG1"), story_line(ZH, change, ""))
    assert "#1" in story_line(EN, change, "U0ENG1")
    for pausable in (True, False):
        terms = DEFAULT_POLICY.terms(Severity.C if pausable else Severity.A, in_warranty=True)
        chinese_only(ZH.say(reply_for(change, terms)))
        assert "#1" in EN.say(reply_for(change, terms))


def test_lists_home_and_history_read_in_chinese() -> None:
    ticket = worked_ticket()
    listed = [Listed(ticket, ("respond", NOW + timedelta(minutes=14)))] * 45  # type: ignore[arg-type]
    on_call = OnCall("U0ENG1", None, NOW, NOW + timedelta(days=7), override=True)
    texts = texts_of(list_blocks(ZH, listed, NOW, ZH("Open tickets")))
    texts += texts_of(list_blocks(ZH, [], NOW, ZH("Your tickets")))
    texts += texts_of(home_view(ZH, HomeData(listed, listed, (on_call, on_call)), NOW))
    chinese_only(*texts)
    assert any("还剩 14 分钟" in t for t in texts) and any("……还有 5 张" in t for t in texts)
    events = [
        EventView(NOW, "U0ENG1", kind, USER_TEXT, "A") for kind in ("reported", *sorted(WHO_MAY))
    ]
    shown = show_blocks(TicketView(ticket, {}, events, earlier=True), NOW, ZH)  # type: ignore[arg-type]
    history, older = texts_of(shown)[-2:]
    assert history.startswith("*处理记录*")
    chinese_only(history, older)
    chinese_only(*[t for t in texts_of(shown) if t.startswith("*原因*")])


def test_on_call_answers_read_in_chinese() -> None:
    now_, next_ = (
        OnCall("U0ENG1", "U0ENG3", NOW, NOW + timedelta(days=7)),
        OnCall(None, None, NOW + timedelta(days=7), NOW + timedelta(days=14)),
    )
    answer = oncall_answer(ZH, now_, next_)
    chinese_only(answer, override_taken(ZH, "U0ENG2", NOW))
    assert "无人" in answer and "2026-11-30 02:00" in answer  # the UTC translator's fallback


def test_help_lists_both_names_of_every_subcommand() -> None:
    for tr in (ZH, EN):
        text = help_text(tr)
        for verb, chinese in CHINESE_NAMES.items():
            assert f"/ticket {chinese}" in text or f"(`{chinese}`)" in text
            assert f"/ticket {verb}" in text or f"(`{verb}`)" in text
    chinese_only(help_text(ZH), commands_text(ZH))


@pytest.mark.parametrize("verb", sorted(CHINESE_NAMES))
def test_each_chinese_subcommand_works_as_its_english_name(verb: str) -> None:
    chinese = CHINESE_NAMES[verb]
    args = {
        "assign": "12 <@U0ENG2>",
        "severity": "12 B 只有一个站点受影响",
        "plan": "12 更换硬盘 by 2026-12-01",
        "list": "mine",
        "report": "2026-11",
        "help": "",
    }.get(verb, f"12 {USER_TEXT}" if verb in ("cause", "resolve", "decline", "note") else "12")
    assert parse(f"{chinese} {args}".strip()) == parse(f"{verb} {args}".strip())
    # the Chinese form of the usage is itself a right command
    usage = ZH(USAGE[verb])
    assert usage.startswith(f"/ticket {chinese}")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("确认 1。", "ack 1"),
        ("确认，＃１", "ack 1"),
        ("原因 1：磁盘满了", "cause 1 磁盘满了"),
        ("原因：1，磁盘满了：换了", "cause 1 磁盘满了：换了"),  # the text's own marks stay
        ("cause 1: disk full", "cause 1 disk full"),
        ("月报 ２０２６－１１", "report 2026-11"),
        ("列表 Ａ", "list A"),
        ("列表：我的", "list mine"),
        ("列表 超时", "list breaching"),
        ("方案 1 更换硬盘 截止 2026-12-01", "plan 1 更换硬盘 by 2026-12-01"),
        ("方案 1 更换硬盘 截止2026年12月1日", "plan 1 更换硬盘 by 2026-12-01"),
    ],
)
def test_punctuation_after_a_command_word_ends_it(typed: str, meant: str | None) -> None:
    if meant is None:
        with pytest.raises(UserError):
            parse(typed)
    else:
        assert parse(typed) == parse(meant)


def test_parse_errors_read_in_chinese() -> None:
    bad = ["飞 1", "确认", "确认 abc", "原因 3", "指派 3 eli", "定级 3 E 理由", "定级 3 B"]
    bad += ["方案 3 by 2026-13-45", "方案 3 by 2026-12-01", "确认 3 多余", "列表 all", "月报 11"]
    for line in bad:
        with pytest.raises(UserError) as raised:
            parse(line)
        chinese_only(ZH.say(raised.value.message))
        assert english_words(EN.say(raised.value.message)), line


def test_refusals_read_in_chinese() -> None:
    ticket = make_ticket()
    said = []
    for duty in Duty:
        with pytest.raises(UserError) as raised:
            check_duty(duty, Actor("U0REP"))
        said.append(ZH.say(raised.value.message))
    for step in (Step("ack"), Step("accept"), Step("confirm", rating=5)):
        with pytest.raises(UserError) as raised:
            apply(ticket, step, actor=Actor("U0REP"), now=NOW)
        said.append(ZH.say(raised.value.message))
    closed = make_ticket(state=TicketState.CLOSED)
    for step in (Step("ack"), Step("cause", text="x"), Step("close")):
        with pytest.raises(UserError) as raised:
            apply(closed, step, actor=Actor("U0ENG1", engineer=True, manager=True), now=NOW)
        said.append(ZH.say(raised.value.message))
    chinese_only(*said)
    assert "只有工程师或经理可以" in "".join(said) or "只有工程师可以" in "".join(said)


@pytest.mark.parametrize("verb", sorted(set(WHO_MAY) - {"autoclose"}))
def test_a_refusal_names_the_step_in_the_readers_words(verb: str) -> None:
    with pytest.raises(UserError) as raised:
        check_role(make_ticket(), verb, Actor("U0NOBODY"))
    chinese, english = ZH.say(raised.value.message), EN.say(raised.value.message)
    assert chinese.startswith("只有") and chinese.endswith("”。"), chinese
    assert not regex.search(r"[A-Za-z]", chinese.replace("#1", "")), chinese
    assert english.startswith("Only ") and english.endswith(" #1."), english


def test_who_may_is_listed_as_each_language_lists() -> None:
    with pytest.raises(UserError) as raised:
        check_role(make_ticket(), "escalate", Actor("U0NOBODY"))
    assert ZH.say(raised.value.message) == "只有工程师、经理或报告人可以对 #1 执行“升级”。"
    assert EN.say(raised.value.message) == (
        "Only an engineer, a manager or the reporter can escalate #1."
    )


def test_a_class_is_named_once_and_more_is_counted_in_its_own_measure_word() -> None:
    for severity in Severity:
        said = meaning(ZH, severity)
        assert "类问题" not in said, said  # the places that show it name the class already
    visit = ("中心", PlanTask.VISIT, date(2026, 12, 1), NOW)
    tasks = plan_blocks.overdue_lines(ZH, [visit] * 16)
    assert tasks[0]["text"]["text"].endswith("……还有 1 项任务")
    more = list_blocks(ZH, [], NOW, "未结工单", total=41)
    assert more[-1]["elements"][0]["text"] == "……还有 1 张工单"


def test_triage_is_asked_in_the_standards_words() -> None:
    from bot.domain.triage import QUESTIONS

    assert set(QUESTION_TEXT) == {q.key for q in QUESTIONS}  # every question has its words
    assert set(MEANING_TEXT) == set(Severity)
    assert ZH(QUESTION_TEXT["stopped"]).startswith("是否严重影响整个系统运行")
    assert "但没有导致系统工作流程和业务处理、网络连接的停滞或中断" in ZH(QUESTION_TEXT["affected"])
    assert "为了系统日后的正常使用必须加以修改或完善" in ZH(QUESTION_TEXT["future"])
    assert "完善和修改建议" in meaning(ZH, Severity.D)
    chinese_only(*(ZH(text) for text in (*QUESTION_TEXT.values(), *MEANING_TEXT.values())))


def test_forms_and_the_ticket_message_read_in_chinese() -> None:
    ticket = worked_ticket()
    deadlines = {"respond": NOW - timedelta(minutes=5), "diagnose": NOW + timedelta(hours=3)}
    texts = texts_of(report_form.report_modal(ZH, answers=(False, True)))
    texts += texts_of(report_form.report_modal(ZH))
    texts += texts_of(report_form.report_pending(ZH))
    texts += texts_of(report_form.report_confirmation(ZH, ticket, deadlines, NOW, {"diagnose"}))  # type: ignore[arg-type]
    texts += texts_of(blocks.ticket_message(ticket, deadlines, NOW, {"diagnose"}, tr=ZH))  # type: ignore[arg-type]
    texts += texts_of(report_form.report_offer(ZH, "evt:1"))
    texts.append(report_form.report_offer_used(ZH, ticket))  # type: ignore[arg-type]
    chinese_only(*texts)
    assert any("已逾期" in t for t in texts) and any("（暂定）" in t for t in texts)
    english = texts_of(blocks.ticket_message(ticket, deadlines, NOW, tr=EN))  # type: ignore[arg-type]
    assert any("Respond by" in t for t in english)


def test_the_ticket_card_and_its_forms_read_in_chinese() -> None:
    ticket = worked_ticket()
    notices = [
        ticket_card.confirm_request(ZH, ticket),  # type: ignore[arg-type]
        ticket_card.approval_request(ZH, ticket),  # type: ignore[arg-type]
        *(ticket_card.answered_prompt(ZH, ticket, p, "已确认") for p in Prompt),  # type: ignore[arg-type]
    ]
    texts = [n.text for n in notices] + [t for n in notices for t in texts_of(n.blocks)]
    texts.append(ticket_card.approval_outcome(ZH, ticket))  # type: ignore[arg-type]
    for form in (ticket_card.rating_modal, ticket_card.checklist_modal, ticket_card.decline_modal):
        texts += texts_of(form(ZH, ticket))  # type: ignore[arg-type]
    chinese_only(*texts)
    found = report_errors(summary=" ", details="x" * 4000, system="")
    chinese_only(*(ZH.say(problem) for problem in found.values()))
    assert ZH.say(found["summary"]) == "请填写摘要。"


def test_the_managers_calendar_notices_read_in_chinese() -> None:
    from bot.slack.calendar_text import estimated_year, official_year

    estimated, official = estimated_year(ZH, 2031), official_year(ZH, 2031)
    chinese_only(estimated, official)
    assert "2031 年还没有官方的节假日安排" in estimated and "不再是暂定的" in official


def test_the_knowledge_base_reads_in_chinese() -> None:
    from bot.domain.kb import Entry, EntryKind, QueryProblem
    from bot.slack import kb as kb_blocks

    article = Entry(EntryKind.ARTICLE, 3, "打印机无法打印", USER_TEXT, "", USER_TEXT, "U0ENG1", NOW)
    solved = Entry(EntryKind.TICKET, 12, "收费系统停止", USER_TEXT, USER_TEXT, USER_TEXT, "U0", NOW)
    found = [kb_blocks.Shown(article), kb_blocks.Shown(solved, "https://example.com/p1")]
    texts = texts_of(kb_blocks.search_results(ZH, "打印机", found))
    texts += texts_of(kb_blocks.search_results(ZH, "打印机", []))
    texts += texts_of(kb_blocks.offer_blocks(ZH, found))
    texts += texts_of(kb_blocks.related_blocks(ZH, found))
    texts += texts_of(kb_blocks.confirm_kb_blocks(ZH, 12, True))
    retired = Entry(EntryKind.ARTICLE, 4, "旧文章", USER_TEXT, "", USER_TEXT, "U0", NOW, True)
    for view in (
        kb_blocks.solved_view(ZH, article),
        kb_blocks.entry_view(ZH, found[1]),
        kb_blocks.entry_view(ZH, kb_blocks.Shown(retired)),
        kb_blocks.article_modal(ZH),
        kb_blocks.article_modal(ZH, article),
        kb_blocks.article_saved(ZH, article, edited=True),
        kb_blocks.article_saved(ZH, article, edited=False),
    ):
        texts += texts_of(view)
    texts += [kb_blocks.query_problem(ZH, problem) for problem in QueryProblem]
    texts += [ZH(kb_blocks.HELP), kb_blocks.search_text(ZH, [])]
    texts += [kb_blocks.offer_answered(ZH, article)]
    texts += kb_blocks.article_errors_text(ZH, {"title": "missing", "answer": "too_long"}).values()
    chinese_only(*texts)
    assert "这解决了我的问题" in texts and "KB-3" in "".join(texts)
    assert "This solved my problem" in texts_of(kb_blocks.offer_blocks(EN, found))


def test_the_service_plan_and_the_months_review_read_in_chinese() -> None:
    from datetime import date

    from bot.domain.review import CLASSES, Group, Kept, Month, Rated, Review, Spread
    from bot.domain.service_plan import PlanTask, TaskState
    from bot.slack import plan_blocks
    from bot.slack.review_blocks import review_blocks, review_text

    due, overdue = date(2026, 12, 1), NOW + timedelta(days=8)
    texts: list[str] = []
    for task in PlanTask:
        text, found = plan_blocks.task_request(ZH, 7, "高速公路监控中心", task, due, overdue)
        texts += [text, *texts_of(found)]
        for state in (TaskState.DONE, TaskState.SKIPPED):
            text, found = plan_blocks.task_closed(ZH, "中心", task, due, state, "U0ENG1", "下雪")
            texts += [text, *texts_of(found)]
    text, found = plan_blocks.survey_request(ZH, 7, "高速公路监控中心")
    texts += [text, *texts_of(found)]
    texts += texts_of(plan_blocks.skip_modal(ZH, 7, "D0", "1.0"))
    texts += texts_of(plan_blocks.survey_modal(ZH, 7, "高速公路监控中心", "D0", "1.0"))
    texts += texts_of(plan_blocks.overdue_lines(ZH, [("监控中心", PlanTask.VISIT, due, NOW)] * 16))
    group = Group(tickets=1, closed=1, signoffs=Rated(1, 4))
    group.kept["respond"] = Kept(met=1, due=2)
    review = Review(
        month=Month(2026, 11),
        start=NOW,
        end=NOW,
        total=group,
        by_class={c: Group() for c in CLASSES},
        by_customer={"": group, **{f"客户{n}": Group() for n in range(21)}},
        respond=Spread(3, 2400.0, 3600.0),
        resolve=Spread(0, None, None),
        answered_at_once=2,
    )
    texts += [review_text(ZH, review), *texts_of(review_blocks(ZH, review))]
    chinese_only(*texts)
    joined = "\n".join(texts)
    assert "2026-11 售后服务月报" in joined and "中位数 40 分钟" in joined and "电话交流" in joined
    english = "\n".join(texts_of(review_blocks(EN, review)))
    assert "To respond: median 40 min, 90% within 1 h (3)" in english


def test_pages_reminders_and_breach_notices_read_in_chinese() -> None:
    from bot.domain.page_settlement import Settled, Step
    from bot.domain.roles import Actor
    from bot.sla.policy import Milestone
    from bot.sla.stages import Stage, StageKind
    from bot.slack import paging

    ticket = worked_ticket()
    engineer, manager = Actor("U0ENG1", engineer=True), Actor("U0MGR1", manager=True)
    due = NOW + timedelta(minutes=14, seconds=30)
    texts: list[str] = []
    for milestone in Milestone:
        for kind in StageKind:
            stage = Stage(milestone, kind, NOW, 75 if kind is StageKind.REMINDER else 2)
            for who in ("U0ENG3", None):
                texts.append(paging.reminder(ZH, ticket, stage, due=due, now=NOW, who=who))  # type: ignore[arg-type]
                texts.append(paging.thread_note(ZH, ticket, stage, due=due, now=NOW, who=who))  # type: ignore[arg-type]
            for to in (engineer, manager):
                text, body = paging.page(ZH, ticket, stage, due=due, now=NOW, to=to)  # type: ignore[arg-type]
                texts += [text, *texts_of(body)]
            text, body = paging.managers_notice(ZH, ticket, stage, due=due, now=NOW)  # type: ignore[arg-type]
            texts += [text, *texts_of(body)]
    pages = [paging.escalation_page(ZH, ticket, "U0ENG1", now=NOW, to=manager)] * 3  # type: ignore[arg-type]
    text, body = paging.group(ZH, pages)
    texts += [text, *texts_of(body)]
    settled = [
        Settled(Step.MET, m, by) for m in ("respond", "diagnose", "plan") for by in ("U0ENG1", None)
    ]
    settled += [Settled(Step.TAKEN, "", "U0ENG2"), Settled(Step.ENDED, "resolved", "U0ENG1")]
    texts += [paging.settled_note(ZH, "#1", done) for done in settled]
    chinese_only(*texts)
    joined = "\n".join(texts)
    assert "3 张工单需要你处理" in joined and "还剩 14 分钟" in joined
    assert "尚未确定原因" in joined and "未能在承诺时限内给出解决方案，已违约" in joined
    assert "#1 已由 <@U0ENG1> 确认。" in joined and "正在呼叫副值班 <@U0ENG3>" in joined
    assert "*违约*" in joined and "认领" in joined and "升级" in joined and "打开工单" in joined
    primary = Stage(Milestone.RESPOND, StageKind.PAGE_PRIMARY, NOW)
    english, _ = paging.page(EN, ticket, primary, due=due, now=NOW, to=engineer)  # type: ignore[arg-type]
    assert "needs a response" in english and "14 minutes left" in english
