"""What one person alone reads by direct message follows their own Slack language (SPEC §3
``language``, §9), over real HTTP against the stand-in: their pages (and those pages once
settled), the reporter's confirmation, the sign-off they are asked for and its answer, a
manager's escalation page. What a channel reads (the card, its thread, the reminders in
it) follows the workspace's."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from bot.sandbox.standin import SlackStandIn, StoredMessage
from bot.services import kb
from bot.services.delivery.sending import ASK_LANGUAGE_WITHIN
from tests.escalation.support import settle
from tests.fakes import FakeClock
from tests.harness import Running, running_bot
from tests.i18n.conftest import team
from tests.i18n.english import english_words, texts_of
from tests.i18n.test_stories import report_through_the_form, say, thread_says

HAN = re.compile(r"[\u4e00-\u9fff]")
SUMMARY = "收费系统全部停止"  # what people type is theirs: never translated
MIN = timedelta(minutes=1)


@asynccontextmanager
async def workspace(
    db_url: str,
    clock: FakeClock,
    language: str,
    locales: Mapping[str, str],
    prepare: Callable[[SlackStandIn], object] | None = None,
) -> AsyncIterator[Running]:
    """The bot in a workspace speaking ``language``; ``prepare`` sets Slack's faults before
    the bot starts (it asks the configured people's languages at start)."""
    config, slack = team(language, locales)
    await slack.start()
    if prepare is not None:
        prepare(slack)
    try:
        async with running_bot(db_url, config, clock, slack=slack) as running:
            yield running
    finally:
        await slack.stop()


def dms(slack: SlackStandIn, user: str) -> list[StoredMessage]:
    return slack.messages(slack.dm_channel(user))


def words(message: StoredMessage) -> list[str]:
    """Every text a person reads in the message, what the reporter typed taken out."""
    return [t.replace(SUMMARY, "") for t in [message.text, *texts_of(message.blocks or [])]]


def english(message: StoredMessage) -> bool:
    return not any(HAN.search(text) for text in words(message))


def chinese(message: StoredMessage) -> bool:
    return all(english_words(text) == [] for text in words(message))


def labels(message: StoredMessage) -> list[str]:
    return [
        e["text"]["text"]
        for b in message.blocks or []
        if b.get("type") == "actions"
        for e in b.get("elements", [])
    ]


def notes(message: StoredMessage) -> list[str]:
    return [
        str(e.get("text"))
        for b in message.blocks or []
        if str(b.get("block_id", "")).endswith("_done")
        for e in b.get("elements", [])
    ]


def now_of(
    slack: SlackStandIn, channel: str, ts: str, thread_ts: str | None = None
) -> StoredMessage:
    """The message as it is now (updated in place)."""
    return next(m for m in slack.messages(channel, thread_ts) if m.ts == ts)


async def test_in_a_chinese_workspace_an_english_engineer_is_paged_in_english(
    db_url: str, clock: FakeClock
) -> None:
    locales = {"U0ENG1": "en-US", "U0REP": "en-US"}  # the others read Chinese
    async with workspace(db_url, clock, "zh-CN", locales) as running:
        slack, ctx = running.slack, running.bot.ctx
        start = clock.now()

        async def at(minutes: float) -> None:
            await clock.advance(start + minutes * MIN - clock.now())
            await settle(ctx)

        number = await report_through_the_form(slack, SUMMARY, "所有车道无法收费", [True])
        await settle(ctx)
        # the on-call primary's page: English, but for what the reporter typed
        [page] = dms(slack, "U0ENG1")
        assert f"#{number} class A needs a response" in page.text and english(page)
        assert labels(page) == ["Acknowledge", "Open ticket"]
        assert SUMMARY in json.dumps(page.blocks, ensure_ascii=False)
        # the reporter's confirmation: English; the card and its thread: the workspace's
        [told] = dms(slack, "U0REP")
        assert told.text.startswith(f"Your report is ticket #{number}, class A.")
        card = slack.messages("C0SUPPORT")[0]
        assert "*报告人*" in json.dumps(card.blocks, ensure_ascii=False)
        thread = await thread_says(slack, card, "报告")
        assert f"#{number} 由 <@U0REP> 报告" in thread

        # the respond reminder is in the thread: Chinese, naming the English engineer
        await at(7.5)
        thread = await thread_says(slack, card, "已用去 50%")
        assert "<@U0ENG1>" in thread.splitlines()[-1]
        # not acknowledged in time: the secondary (Chinese) is paged in Chinese
        await at(15)
        [second] = dms(slack, "U0ENG3")
        assert f"#{number} 尚未确认" in second.text and chinese(second)
        assert labels(second) == ["确认", "打开工单"]
        assert "正在呼叫副值班 <@U0ENG3>" in await thread_says(slack, card, "副值班")

        # acknowledged from the page: each page says so in its own reader's language
        sent = await slack.block_action(
            user="U0ENG1",
            action_id="ticket_ack",
            block_id=f"page_{number}",
            channel=page.channel,
            message_ts=page.ts,
        )
        assert sent.status == 200
        first = await slack.wait_for(lambda: notes(now_of(slack, page.channel, page.ts)))
        assert first == [f":white_check_mark: #{number} acknowledged by <@U0ENG1>."]
        again = await slack.wait_for(lambda: notes(now_of(slack, second.channel, second.ts)))
        assert again == [f":white_check_mark: #{number} 已由 <@U0ENG1> 确认。"]

        # the sign-off: the reporter is asked in English, the thread in Chinese; once
        # answered, each message says so in its own language
        await say(slack, "U0ENG1", f"cause {number} disk full")
        await say(slack, "U0ENG1", f"plan {number} clean the logs")
        await say(slack, "U0ENG1", f"resolve {number} cleaned the logs")
        modal = await slack.wait_for(lambda: slack.modal("U0ENG1"))
        await slack.view_submission(
            user="U0ENG1",
            view_id=modal.id,
            values={
                "checklist": ["data_backup", "file_backup", "customer_told", "second_test"],
                "resolution": "cleaned the logs",
            },
        )
        dm = slack.dm_channel("U0REP")
        ask = await slack.wait_for(
            lambda: next((m for m in slack.messages(dm) if "confirm_yes" in str(m.blocks)), None)
        )
        assert f"#{number} is resolved. Is it fixed?" in ask.text and english(ask)
        assert f"#{number} 已解决。问题修好了吗？" in await thread_says(slack, card, "修好了吗")
        await slack.block_action(
            user="U0REP", action_id="confirm_yes", channel=dm, message_ts=ask.ts
        )
        rating = await slack.wait_for(lambda: slack.modal("U0REP"))
        await slack.view_submission(
            user="U0REP", view_id=rating.id, values={"rating": "5", "comment": "👍"}
        )
        answered = await slack.wait_for(
            lambda: (m := now_of(slack, dm, ask.ts)) and "confirm_yes" not in str(m.blocks) and m
        )
        assert "answered" in answered.text and english(answered)
        asked_in_thread = next(
            m for m in slack.messages(card.channel, card.ts) if "问题修好了吗" in m.text
        )
        settled = await slack.wait_for(
            lambda: (
                (m := now_of(slack, card.channel, asked_in_thread.ts, card.ts))
                and "confirm_yes" not in str(m.blocks)
                and m
            )
        )
        assert chinese(settled) and "评分 5/5" in settled.text
        # Slack was asked each reader's language, with include_locale, once
        asked = [c.params.get("user") for c in slack.calls("users.info")]
        assert sorted(set(asked)) == sorted(asked)
        assert {"U0ENG1", "U0ENG3", "U0REP"} <= set(asked)


async def test_in_an_english_workspace_a_chinese_engineer_and_manager_read_chinese(
    db_url: str, clock: FakeClock
) -> None:
    locales = {"U0ENG1": "zh-CN", "U0MGR1": "zh-CN", "U0REP": "en-US", "U0ENG2": "en-US"}
    async with workspace(db_url, clock, "en", locales) as running:
        slack, ctx = running.slack, running.bot.ctx
        number = await report_through_the_form(slack, SUMMARY, "All lanes down", [True])
        await settle(ctx)
        [page] = dms(slack, "U0ENG1")
        assert f"#{number}（A 类）需要响应" in page.text and chinese(page)
        assert labels(page) == ["确认", "打开工单"]
        [told] = dms(slack, "U0REP")
        assert told.text.startswith(f"Your report is ticket #{number}") and english(told)
        card = slack.messages("C0SUPPORT")[0]
        assert "*Reporter*" in json.dumps(card.blocks) and not HAN.search(
            json.dumps(card.blocks, ensure_ascii=False).replace(SUMMARY, "")
        )
        # escalated: the manager is paged in Chinese; the channel hears it in English
        sent = await slack.block_action(
            user="U0ENG2", action_id="ticket_escalate", channel="C0SUPPORT", message_ts=card.ts
        )
        assert sent.status == 200, sent.body
        [paged] = await slack.wait_for(lambda: dms(slack, "U0MGR1"))
        assert f"<@U0ENG2> 升级了 #{number}（A 类）" in paged.text and chinese(paged)
        assert labels(paged) == ["认领", "升级", "打开工单"]
        thread = await thread_says(slack, card, "escalated")
        assert not HAN.search(thread.replace(SUMMARY, ""))

        # the manager's pages as the diagnose hour runs out, and again after the breach:
        # Chinese; the breach notice in the managers channel and the thread: English
        start = clock.now()

        async def at(minutes: float) -> None:
            await clock.advance(start + minutes * MIN - clock.now())
            await settle(ctx)

        await say(slack, "U0ENG2", f"ack {number}")
        await at(45)
        late = dms(slack, "U0MGR1")[-1]
        assert f"#{number} 尚未确定原因" in late.text and "还剩" in late.text and chinese(late)
        assert labels(late) == ["认领", "升级", "打开工单"]
        await at(60)
        [breach] = slack.messages("C0MANAGERS")
        assert breach.text.startswith(f":fire: Breach: #{number} breached its diagnose promise")
        assert english(breach) and "Take" in labels(breach)
        assert "breached its diagnose promise" in await thread_says(slack, card, "breached")
        await at(90)
        again = dms(slack, "U0MGR1")[-1]
        assert "第 1 次催办" in again.text and chinese(again)


async def test_a_plan_task_is_sent_and_closed_in_its_readers_language(
    db_url: str, clock: FakeClock
) -> None:
    from dataclasses import replace

    from bot.config import parse_config
    from bot.sandbox.standin import SlackStandIn
    from tests.conftest import CONFIG_DATA
    from tests.e2e.test_service_plan import advance_to, shanghai, updated
    from tests.harness import BOT_TOKEN, CHANNELS, SIGNING_SECRET, USERS

    data: dict[str, Any] = json.loads(json.dumps(CONFIG_DATA))  # an English workspace
    data["customers"][0] |= {"owner": "U0ENG2", "plan": {"call": "1w"}}
    data["service_plan"] = {"training": ""}
    users = [replace(u, locale="zh-CN" if u.id == "U0ENG2" else "en-US") for u in USERS]
    slack = SlackStandIn(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, users=users, channels=CHANNELS
    )
    await slack.start()
    try:
        async with running_bot(db_url, parse_config(data), clock, slack=slack) as running:
            await advance_to(running, clock, shanghai("2026-11-30T08:30"))
            [call] = await slack.wait_for(lambda: dms(slack, "U0ENG2") or None)
            assert (
                call.text == "服务计划：Highway Monitoring Center 的电话交流，应于 2026-11-30 完成"
            )
            channel = slack.dm_channel("U0ENG2")
            await slack.block_action(
                user="U0ENG2", action_id="plan_done", channel=channel, message_ts=call.ts
            )
            done = await updated(slack, channel, call.ts, "已完成")
            assert done.text.endswith("\n:white_check_mark: <@U0ENG2> 已完成。")
            said = [t.replace("Highway Monitoring Center", "") for t in texts_of(done.blocks)]
            assert said and all(english_words(t) == [] for t in said)
    finally:
        await slack.stop()


async def first_page(
    db_url: str, clock: FakeClock, prepare: Callable[[SlackStandIn], object]
) -> tuple[SlackStandIn, int, StoredMessage]:
    """An A report in a Chinese workspace whose engineer U0ENG1 reads English, with Slack's
    faults ``prepare`` sets: the stand-in, the ticket's number and the engineer's page."""
    async with workspace(db_url, clock, "zh-CN", {"U0ENG1": "en-US"}, prepare) as running:
        slack, ctx = running.slack, running.bot.ctx
        number = await report_through_the_form(slack, SUMMARY, "所有车道无法收费", [True])
        await settle(ctx)
        [page] = dms(slack, "U0ENG1")
        return slack, number, page


async def test_a_page_goes_in_the_workspaces_language_when_slack_refuses_to_say_the_readers(
    db_url: str, clock: FakeClock
) -> None:
    """users.info refused (an install without ``users:read``): the page reads in the
    workspace's language."""
    slack, number, page = await first_page(
        db_url, clock, lambda slack: slack.fail("users.info", status=400, times=None)
    )
    assert f"#{number}（A 类）需要响应" in page.text and chinese(page)
    assert {c.fault for c in slack.calls("users.info")} == {"http_400"}


async def test_a_page_is_not_held_up_by_a_slow_answer_of_the_readers_language(
    db_url: str, clock: FakeClock
) -> None:
    """Slack holds users.info open longer than the delivery waits for it: the page goes,
    in the workspace's language."""
    _, number, page = await first_page(
        db_url, clock, lambda slack: slack.hang("users.info", ASK_LANGUAGE_WITHIN + 2, times=None)
    )
    assert f"#{number}（A 类）需要响应" in page.text and chinese(page)


async def test_the_people_the_config_names_are_asked_at_start_so_a_page_does_not_ask(
    db_url: str, clock: FakeClock
) -> None:
    """At start the bot asks Slack the language of the people pages go to (on call,
    engineers, managers, plan owners, contacts): the first page to each is written in
    theirs without a users.info of its own."""
    async with workspace(db_url, clock, "zh-CN", {"U0ENG1": "en-US"}) as running:
        slack, ctx = running.slack, running.bot.ctx
        config = ctx.config
        named = {*config.oncall.primary, *config.roles.engineers, *config.roles.managers}

        def asked() -> list[str]:
            return [str(c.params.get("user")) for c in slack.calls("users.info")]

        await slack.wait_for(lambda: named <= set(asked()) or None)
        before = asked().count("U0ENG1")
        number = await report_through_the_form(slack, SUMMARY, "所有车道无法收费", [True])
        await settle(ctx)
        [page] = dms(slack, "U0ENG1")
        assert f"#{number}" in page.text and english(page)
        assert before == 1 and asked().count("U0ENG1") == 1


async def test_a_kb_search_answers_in_the_searchers_own_language(
    db_url: str, clock: FakeClock
) -> None:
    """A customer whose Slack is in English searches the knowledge base of a Chinese
    workspace: the answer, which only they see, is in English (the words of the entries
    stay as written)."""
    async with workspace(db_url, clock, "zh-CN", {"U0CUST": "en-US"}) as running:
        slack, ctx = running.slack, running.bot.ctx
        await kb.add_article(
            ctx, user_id="U0ENG1", title="打印机脱机", problem="显示脱机", answer="固定IP"
        )
        sent = await slack.slash_command(
            user="U0CUST", command="/kb", text="打印机", channel="C0SUPPORT"
        )
        assert sent.status == 200 and isinstance(sent.json, dict)
        said = json.dumps(sent.json["blocks"], ensure_ascii=False)
        assert "Knowledge base, best first" in said and "*Problem:* 显示脱机" in said
        bad = await slack.slash_command(user="U0CUST", command="/kb", text="", channel="C0CUST1")
        assert "Type what to look for" in bad.body
        # an engineer whose Slack is in Chinese reads Chinese
        theirs = await slack.slash_command(user="U0ENG1", command="/kb", text="add")
        assert "Type what to look for" not in theirs.body and HAN.search(theirs.body)
