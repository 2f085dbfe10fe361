"""The A and C stories over real HTTP in a Chinese workspace (Chinese answers, Chinese
subcommands, Chinese replies and thread lines) and in an English one; a person whose Slack
is in English reads English in the Chinese workspace."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from bot.sandbox.standin import SlackStandIn, StoredMessage
from bot.services.readers import paged_people
from tests.e2e.test_intake import answer, open_report
from tests.e2e.test_tickets import ticket
from tests.fakes import FakeClock
from tests.harness import Running, running_bot
from tests.i18n.conftest import ENGLISH_READER, team

HAN = re.compile(r"[\u4e00-\u9fff]")


async def say(slack: SlackStandIn, user: str, text: str) -> str:
    """``/ticket text`` by ``user``: the answer's text, then its blocks as JSON."""
    sent = await slack.slash_command(user=user, command="/ticket", text=text, channel="C0SUPPORT")
    assert sent.status == 200
    body: Any = sent.json
    if body is None:  # a text-only answer
        return str(sent.body)
    return str(body.get("text", "")) + json.dumps(body.get("blocks", []), ensure_ascii=False)


async def report_through_the_form(
    slack: SlackStandIn, summary: str, details: str, answers: list[bool]
) -> int:
    view_id = await open_report(slack, text=summary)
    questions = ("triage_stopped", "triage_affected", "triage_future")
    for key, yes in zip(questions[: len(answers)], answers, strict=True):
        await answer(slack, "U0REP", view_id, key, yes=yes)
    sent = await slack.view_submission(
        user="U0REP", view_id=view_id, values={"summary": summary, "details": details}
    )
    assert sent.status == 200 and sent.json["response_action"] == "update"
    return int(re.findall(r"#(\d+)", json.dumps(sent.json["view"], ensure_ascii=False))[0])


async def ticket_message(slack: SlackStandIn, number: int) -> StoredMessage:
    return await slack.wait_for(
        lambda: next(
            (
                m
                for m in slack.messages("C0SUPPORT")
                if f"#{number} " in json.dumps(m.blocks, ensure_ascii=False)
            ),
            None,
        )
    )


async def thread_says(slack: SlackStandIn, message: StoredMessage, text: str) -> str:
    lines = await slack.wait_for(
        lambda: (
            (found := slack.messages(message.channel, message.ts))
            and any(text in m.text for m in found)
            and found
        )
    )
    return "\n".join(m.text for m in lines)


async def resolve_and_sign_off(
    running: Running, number: int, resolve: str, resolution: str, comment: str
) -> None:
    slack = running.slack
    reply = await say(slack, "U0ENG1", f"{resolve} {number} {resolution}")
    modal = await slack.wait_for(lambda: slack.modal("U0ENG1"))
    assert modal.callback_id == "resolve_checklist", reply
    done = await slack.view_submission(
        user="U0ENG1",
        view_id=modal.id,
        values={
            "checklist": ["data_backup", "file_backup", "customer_told", "second_test"],
            "resolution": resolution,
        },
    )
    assert done.json["response_action"] == "update"
    dm = slack.dm_channel("U0REP")
    ask = await slack.wait_for(
        lambda: next(
            (m for m in slack.messages(dm) if "confirm_yes" in json.dumps(m.blocks or [])), None
        )
    )
    await slack.block_action(user="U0REP", action_id="confirm_yes", channel=dm, message_ts=ask.ts)
    rating = await slack.wait_for(lambda: slack.modal("U0REP"))
    await slack.view_submission(
        user="U0REP", view_id=rating.id, values={"rating": "5", "comment": comment}
    )
    row = await ticket(running, number)
    assert row.state == "closed" and row.rating == 5 and row.rating_comment == comment


async def test_the_a_story_in_chinese(zh_running: Running) -> None:
    slack = zh_running.slack
    number = await report_through_the_form(
        slack, "收费系统全部停止", "今天早上八点起所有车道无法收费", [True]
    )
    row = await ticket(zh_running, number)
    assert row.severity == "A" and row.summary == "收费系统全部停止"
    message = await ticket_message(slack, number)
    # the on-call primary is paged by direct message
    await slack.wait_for(lambda: slack.messages(slack.dm_channel("U0ENG1")) or None)

    acked = await say(slack, "U0ENG1", f"确认 {number}")
    assert f"你已确认 #{number}" in acked and "请先备份数据" in acked
    assert "原因" in await say(slack, "U0ENG1", f"原因 {number} 磁盘满了")
    planned = await say(slack, "U0ENG1", f"方案 {number} 清理日志并扩容 by 2026-12-01")
    assert planned == f"已记录 #{number} 的解决方案。"
    row = await ticket(zh_running, number)
    assert (
        row.cause == "磁盘满了"
        and row.plan == "清理日志并扩容"
        and str(row.fix_date) == "2026-12-01"
    )

    thread = await thread_says(slack, message, "给出了")
    assert f"<@U0ENG1> 确认了 #{number}。" in thread
    assert f"<@U0ENG1> 确定了 #{number} 的原因：磁盘满了" in thread
    assert "约定修复日期 2026-12-01" in thread

    await resolve_and_sign_off(zh_running, number, "解决", "已扩容磁盘", "很快，谢谢")
    thread = await thread_says(slack, message, "评分 5/5")
    assert f"<@U0REP> 确认 #{number} 已修复，评分 5/5：很快，谢谢" in thread
    assert f"<@U0ENG1> 解决了 #{number}：已扩容磁盘" in thread


async def test_the_c_story_in_chinese(zh_running: Running, clock: FakeClock) -> None:
    slack = zh_running.slack
    number = await report_through_the_form(
        slack, "报表导出的日期格式不对", "导出的 Excel 中日期是英文格式", [False, False, True]
    )
    assert (await ticket(zh_running, number)).severity == "C"
    message = await ticket_message(slack, number)
    assert f"你已确认 #{number}。" == await say(slack, "U0ENG2", f"确认 {number}")
    assert "计时已暂停" in await say(slack, "U0ENG2", f"等待 {number}")
    assert "继续处理" in await say(slack, "U0ENG2", f"继续 {number}")
    await say(slack, "U0ENG2", f"原因 {number} 区域设置写死为英文")
    await say(slack, "U0ENG2", f"方案 {number} 按用户语言格式化日期")
    note = await say(slack, "U0REP", f"备注 {number} 下周一再验证")
    assert note == f"已为 #{number} 添加备注。"
    thread = await thread_says(slack, message, "备注")
    assert f"<@U0ENG2> 挂起了 #{number}，等待客户。" in thread
    assert f"<@U0REP> 在 #{number} 上备注：下周一再验证" in thread
    listed = await say(slack, "U0ENG2", "列表")
    assert "未关闭的工单" in listed and "报表导出的日期格式不对" in listed
    await resolve_and_sign_off(zh_running, number, "解决", "已修正日期格式", "")


async def test_mistakes_are_told_in_chinese_and_change_nothing(zh_running: Running) -> None:
    slack = zh_running.slack
    assert await say(slack, "U0ENG1", "确认 7") == "没有工单 #7。"
    assert "`/ticket 原因 N 问题原因`" in await say(slack, "U0ENG1", "原因 7")
    refused = await say(slack, "U0REP", "月报")
    assert refused == "只有经理可以查看月报。"
    unknown = await say(slack, "U0REP", "飞")
    assert "我不认识 `飞`" in unknown
    helped = await say(slack, "U0REP", "帮助")
    assert "`/ticket 确认 N` (`ack`)" in helped and "`/ticket 月报 [YYYY-MM]` (`report`)" in helped


async def test_an_english_reader_in_a_chinese_workspace_reads_english(
    zh_running: Running, clock: FakeClock
) -> None:
    slack = zh_running.slack
    number = await report_through_the_form(slack, "打印机卡纸", "三楼打印机", [False, True])
    message = await ticket_message(slack, number)
    reply = await say(slack, ENGLISH_READER, f"确认 {number}")
    assert reply == f"You acknowledged #{number}."
    helped = await say(slack, ENGLISH_READER, "帮助")
    assert helped.startswith("Ticket commands") and "• `/ticket ack N` (`确认`)" in helped
    # the channel follows the workspace's language
    assert f"<@{ENGLISH_READER}> 确认了 #{number}。" in await thread_says(slack, message, "确认了")

    # Slack is asked once a day for a person's language (the delivery asks of the others
    # for their DMs and pages meanwhile)
    def asked() -> int:
        calls = slack.calls("users.info")
        return sum(1 for call in calls if call.params.get("user") == ENGLISH_READER)

    assert asked() == 1
    await say(slack, ENGLISH_READER, "list")
    assert asked() == 1
    await clock.advance(timedelta(days=1, minutes=1))
    await say(slack, ENGLISH_READER, "list")
    assert asked() == 2
    assert all(
        call.params.get("include_locale") in (True, "true", "1")
        for call in slack.calls("users.info")
    )


async def test_the_a_story_in_english(en_running: Running) -> None:
    slack = en_running.slack
    number = await report_through_the_form(slack, "Tolling stopped", "All lanes down", [True])
    message = await ticket_message(slack, number)
    acked = await say(slack, "U0ENG1", f"ack {number}")
    assert f"You acknowledged #{number}" in acked and "back up the data" in acked
    assert "Cause recorded" in await say(slack, "U0ENG1", f"cause {number} disk full")
    assert "Plan recorded" in await say(slack, "U0ENG1", f"plan {number} clean the logs")
    thread = await thread_says(slack, message, "gave the plan")
    assert f"<@U0ENG1> identified the cause of #{number}: disk full" in thread
    assert not HAN.search(thread)
    await resolve_and_sign_off(en_running, number, "resolve", "cleaned the logs", "fast")


async def test_the_c_story_in_english_by_chinese_subcommands(en_running: Running) -> None:
    slack = en_running.slack
    number = await report_through_the_form(
        slack, "Export date format", "Dates are wrong", [False, False, True]
    )
    assert f"You acknowledged #{number}." == await say(slack, "U0ENG2", f"确认 {number}")
    assert "its clock is paused" in await say(slack, "U0ENG2", f"wait {number}")
    assert "running again" in await say(slack, "U0ENG2", f"继续 {number}")
    await say(slack, "U0ENG2", f"原因 {number} locale hard-coded")
    await say(slack, "U0ENG2", f"plan {number} format by the reader's locale")
    await resolve_and_sign_off(en_running, number, "解决", "fixed the format", "")


async def test_when_slack_does_not_say_a_persons_language_the_workspaces_is_used(
    db_url: str, clock: FakeClock
) -> None:
    """The reporter (not named in the config, so not asked at start) reads English in a
    Chinese workspace, once Slack says so."""
    config, slack = team("zh-CN", {"U0REP": "en-US"})
    await slack.start()
    try:
        async with running_bot(db_url, config, clock, slack=slack):
            # the configured people are asked at start; the refusal is for the reporter's ask
            named = set(paged_people(config))
            await slack.wait_for(
                lambda: named <= {c.params.get("user") for c in slack.calls("users.info")} or None
            )
            slack.fail("users.info", status=400)  # refused for good (a 500 would be retried)
            assert (await say(slack, "U0REP", "查看 5")) == "没有工单 #5。"
            mine = [c.fault for c in slack.calls("users.info") if c.params.get("user") == "U0REP"]
            assert mine == ["http_400"]
            # asked again only after an hour; then Slack answers and the person reads English
            assert (await say(slack, "U0REP", "show 5")) == "没有工单 #5。"
            await clock.advance(timedelta(hours=1, minutes=1))
            assert (await say(slack, "U0REP", "show 5")) == "There is no ticket #5."
            # a Slack that hangs does not hold the answer up: the workspace's language meanwhile
            await clock.advance(timedelta(days=1, minutes=1))
            slack.hang("users.info", 5.0, times=None)
            assert (await say(slack, "U0REP", "show 5")) == "没有工单 #5。"
    finally:
        await slack.stop()


async def test_the_report_form_its_errors_and_the_sign_off_read_in_each_readers_language(
    zh_running: Running,
) -> None:
    slack = zh_running.slack
    view_id = await open_report(slack, text="打印机卡纸")
    form = slack.views[view_id].view
    assert form["title"]["text"] == "报告问题" and form["submit"]["text"] == "提交工单"
    assert "是否严重影响整个系统运行" in json.dumps(form, ensure_ascii=False)
    # a field left empty is told in Chinese, and nothing is stored
    refused = await slack.view_submission(
        user="U0REP", view_id=view_id, values={"summary": "打印机卡纸", "details": " "}
    )
    assert refused.json["response_action"] == "errors"
    assert refused.json["errors"]["details"] == "请填写问题描述。"
    assert "triage_stopped" in refused.json["errors"]
    number = await report_through_the_form(slack, "打印机卡纸", "三楼打印机", [False, True])
    # the engineer's Resolve form, the reporter's sign-off and rating form: Chinese
    await say(slack, "U0ENG1", f"确认 {number}")
    await say(slack, "U0ENG1", f"解决 {number} 已更换硒鼓")
    checklist = await slack.wait_for(lambda: slack.modal("U0ENG1"))
    assert checklist.view["title"]["text"] == f"解决 #{number}"
    assert "维护检查单" in json.dumps(checklist.view, ensure_ascii=False)
    await slack.view_submission(
        user="U0ENG1", view_id=checklist.id, values={"resolution": "已更换硒鼓"}
    )
    dm = slack.dm_channel("U0REP")
    ask = await slack.wait_for(
        lambda: next((m for m in slack.messages(dm) if "confirm_yes" in json.dumps(m.blocks)), None)
    )
    assert f"#{number} 已解决。问题修好了吗？" in ask.text
    await slack.block_action(user="U0REP", action_id="confirm_yes", channel=dm, message_ts=ask.ts)
    rating = await slack.wait_for(lambda: slack.modal("U0REP"))
    assert rating.view["title"]["text"] == f"评价 #{number}"
    # the English reader's form is English in the same workspace
    english = await open_report(slack, user=ENGLISH_READER, text="paper jam")
    assert slack.views[english].view["title"]["text"] == "Report a problem"
    refused = await slack.view_submission(
        user=ENGLISH_READER, view_id=english, values={"summary": "paper jam", "details": ""}
    )
    assert refused.json["errors"]["details"] == "Please fill in what happened."


async def test_the_card_in_the_channel_reads_in_the_workspaces_language(
    zh_running: Running,
) -> None:
    slack = zh_running.slack
    number = await report_through_the_form(slack, "打印机卡纸", "三楼打印机", [False, True])
    card = json.dumps((await ticket_message(slack, number)).blocks, ensure_ascii=False)
    assert "*报告人*" in card and "认领" in card
