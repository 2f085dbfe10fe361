"""The knowledge base end to end: signed requests from the stand-in to the running bot."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from bot.domain.tickets import ReportDraft
from bot.sandbox.standin import SlackStandIn, StoredMessage
from bot.services import kb
from bot.services.intake import report
from bot.sla.policy import Severity
from storage.tables import KbAnswerRow, KbEntryRow, TicketRow
from tests.harness import Running


async def count(running: Running, model: type) -> int:
    async with running.bot.ctx.db.orm() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def posted_ticket(running: Running, summary: str, details: str) -> StoredMessage:
    draft = ReportDraft(summary, details, "", Severity.C, "U0REP", "C0RANDOM")
    number = (await report(running.bot.ctx, draft=draft, intake_key=None)).ticket.number
    slack = running.slack
    message = await slack.wait_for(
        lambda: next(
            (m for m in slack.messages("C0SUPPORT") if f"#{number} " in json.dumps(m.blocks)),
            None,
        )
    )
    for _ in range(500):  # the bot stores where its message is right after Slack answers
        async with running.bot.ctx.db.orm() as session:
            row = await session.get(TicketRow, number)
        if row is not None and row.message_ts == message.ts:
            return message
        await asyncio.sleep(0.01)
    raise AssertionError("the ticket message's location was not stored")


async def command(slack: SlackStandIn, user: str, name: str, text: str) -> dict[str, object]:
    sent = await slack.slash_command(user=user, command=name, text=text, channel="C0SUPPORT")
    assert sent.status == 200
    if sent.json is None:  # Bolt answers a text-only ack as text/plain, which Slack shows as is
        return {"text": sent.body}
    assert isinstance(sent.json, dict)
    return sent.json


async def resolve_with_checklist(
    running: Running, message: StoredMessage, resolution: str, *, keep_out: bool = False
) -> None:
    slack = running.slack
    await slack.block_action(
        user="U0ENG1", action_id="ticket_resolve", channel=message.channel, message_ts=message.ts
    )
    modal = await slack.wait_for(lambda: slack.modal("U0ENG1"))
    assert modal.callback_id == "resolve_checklist"
    values: dict[str, object] = {"resolution": resolution, "checklist": ["data_backup"]}
    if keep_out:
        values["kb"] = ["keep_out"]
    done = await slack.view_submission(user="U0ENG1", view_id=modal.id, values=values)  # type: ignore[arg-type]
    assert done.json["response_action"] == "update"


def texts(blocks: object) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def test_a_resolved_ticket_is_found_offered_and_answers_a_report_at_once(
    running: Running,
) -> None:
    slack = running.slack
    message = await posted_ticket(
        running, "数据库备份失败", "每天凌晨的自动备份任务报错，没有备份文件"
    )
    await command(slack, "U0ENG1", "/ticket", "ack 1")
    await command(slack, "U0ENG1", "/ticket", "cause 1 备份目录所在磁盘空间不足")
    await resolve_with_checklist(running, message, "清理旧备份文件并扩容磁盘")

    # the reporter's "Is it fixed?" links the entry the ticket became
    dm = slack.dm_channel("U0REP")
    ask = await slack.wait_for(
        lambda: next((m for m in slack.messages(dm) if "Is it fixed?" in m.text), None)
    )
    assert "knowledge base as *#1*" in texts(ask.blocks)
    await slack.block_action(user="U0REP", action_id="kb_open", channel=dm, message_ts=ask.ts)
    entry_view = await slack.wait_for(lambda: slack.modal("U0REP"))
    assert entry_view.callback_id == "kb_entry"
    permalink = f"archives/C0SUPPORT/p{message.ts.replace('.', '')}"
    assert permalink in texts(entry_view.view) and "扩容磁盘" in texts(entry_view.view)
    await slack.view_closed(user="U0REP", view_id=entry_view.id, is_cleared=True)

    # anyone finds it with /kb, with its cause, resolution and the ticket message's link
    found = await command(slack, "U0CUST", "/kb", "凌晨备份没成功")
    body = texts(found["blocks"])
    assert "#1" in str(found["text"]) and permalink in body
    assert "备份目录所在磁盘空间不足" in body and "清理旧备份文件并扩容磁盘" in body

    # an engineer's /ticket show of a like ticket lists it among related solved problems
    await posted_ticket(running, "数据库备份又失败了", "备份文件没有生成")
    shown = await command(slack, "U0ENG2", "/ticket", "show 2")
    assert "Related solved problems" in texts(shown["blocks"]) and permalink in texts(
        shown["blocks"]
    )
    not_staff = await command(slack, "U0CUST", "/ticket", "show 2")
    assert "Related solved problems" not in texts(not_staff["blocks"])

    # the report form offers it once the summary is typed; "This solved my problem" ends it
    await slack.slash_command(user="U0CUST", command="/report", channel="C0CUST1")
    form = await slack.wait_for(lambda: slack.modal("U0CUST"))
    assert not [b for b in form.view["blocks"] if b.get("block_id", "").startswith("kb_offer")]
    summary = next(b for b in form.view["blocks"] if b.get("block_id") == "summary")
    assert summary["dispatch_action"] is True
    before = form.hash
    typed = await slack.block_action(
        user="U0CUST",
        action_id="value",
        block_id="summary",
        view_id=form.id,
        value="数据库备份报错",
    )
    assert typed.status == 200
    await slack.wait_for(lambda: slack.views[form.id].hash != before)
    offered = [
        b
        for b in slack.views[form.id].view["blocks"]
        if b.get("block_id", "").startswith("kb_offer")
    ]
    assert len(offered) >= 2 and "#1" in texts(offered[1]) and permalink in texts(offered[1])
    # more typing that finds the same matches leaves the form as it is
    settled = slack.views[form.id].hash
    more = await slack.block_action(
        user="U0CUST",
        action_id="value",
        block_id="summary",
        view_id=form.id,
        value="数据库备份报错了",
    )
    assert more.status == 200 and slack.views[form.id].hash == settled
    tickets_before = await count(running, TicketRow)
    await slack.block_action(
        user="U0CUST", action_id="kb_solved", block_id=offered[1]["block_id"], view_id=form.id
    )
    await slack.wait_for(lambda: slack.views[form.id].view.get("callback_id") == "kb_solved_done")
    assert "No ticket was opened" in texts(slack.views[form.id].view)
    assert await count(running, TicketRow) == tickets_before
    assert await count(running, KbAnswerRow) == 1
    assert await kb.answered_at_once(running.bot.ctx, "") == 1


async def test_a_ticket_left_out_by_its_checklist_is_not_found(running: Running) -> None:
    slack = running.slack
    message = await posted_ticket(running, "客户专用接口报错", "只在这个客户的私有环境出现")
    await command(slack, "U0ENG1", "/ticket", "ack 1")
    await resolve_with_checklist(running, message, "改了客户私有配置", keep_out=True)
    found = await command(slack, "U0ENG1", "/kb", "私有配置 R&amp;D &lt;x&gt;")  # as Slack sends it
    assert "Nothing in the knowledge base matches “私有配置 R&amp;D &lt;x&gt;”" in texts(
        found["blocks"]
    )  # escaped once: Slack shows what was typed
    dm = slack.dm_channel("U0REP")
    ask = await slack.wait_for(
        lambda: next((m for m in slack.messages(dm) if "Is it fixed?" in m.text), None)
    )
    assert "knowledge base" not in texts(ask.blocks)


async def test_an_article_is_added_found_edited_and_retired(running: Running) -> None:
    slack = running.slack
    refused = await command(slack, "U0REP", "/kb", "add 打印机脱机")
    assert "Only engineers and managers" in str(refused["text"])
    assert slack.modal("U0REP") is None

    await command(
        slack, "U0ENG1", "/kb", "add　打印机脱机"
    )  # a full-width space, as typed in Chinese
    form = await slack.wait_for(lambda: slack.modal("U0ENG1"))
    assert form.callback_id == "kb_article"
    title = next(b for b in form.view["blocks"] if b["block_id"] == "title")
    assert title["element"]["initial_value"] == "打印机脱机"
    missing = await slack.view_submission(
        user="U0ENG1",
        view_id=form.id,
        values={"title": "打印机脱机", "problem": "  ", "answer": ""},
    )
    assert set(missing.json["errors"]) == {"problem", "answer"}
    assert await count(running, KbEntryRow) == 0
    saved = await slack.view_submission(
        user="U0ENG1",
        view_id=form.id,
        values={
            "title": "打印机脱机",
            "problem": "所有电脑显示打印机脱机 <!channel>",
            "answer": "路由器重新分配了IP，给打印机设固定IP",
        },
    )
    assert "KB-1" in texts(saved.json["view"])

    found = await command(slack, "U0CUST", "/kb", "打印机显示脱机")
    assert "KB-1" in str(found["text"])
    assert "&lt;!channel&gt;" in texts(found["blocks"]) and "<!channel>" not in texts(
        found["blocks"]
    )

    await command(slack, "U0MGR1", "/kb", "edit KB-1")
    edit = await slack.wait_for(lambda: slack.modal("U0MGR1"))
    problem = next(b for b in edit.view["blocks"] if b["block_id"] == "problem")
    assert problem["element"]["initial_value"] == "所有电脑显示打印机脱机 <!channel>"
    await slack.view_submission(
        user="U0MGR1",
        view_id=edit.id,
        values={"title": "扫描仪脱机", "problem": "扫描仪找不到", "answer": "重装TWAIN驱动"},
    )
    assert "KB-1" in str((await command(slack, "U0CUST", "/kb", "扫描仪 TWAIN"))["text"])

    retired = await command(slack, "U0ENG2", "/kb", "retire KB-1")
    assert "KB-1 is retired" in str(retired["text"])
    gone = await command(slack, "U0CUST", "/kb", "扫描仪 TWAIN")
    assert "Nothing in the knowledge base matches" in texts(gone["blocks"])
    again = await command(slack, "U0ENG2", "/kb", "retire KB-1")
    assert "retired already" in str(again["text"])


async def test_bad_searches_get_one_line_and_change_nothing(running: Running) -> None:
    slack = running.slack
    await kb.add_article(
        running.bot.ctx, user_id="U0ENG1", title="登录超时", problem="转圈", answer="重启"
    )
    for text, says in (
        ("", "Type what to look for"),
        ("？！。，……", "no words in it"),
        ("备份" * 2500, "too long"),
        ("edit", "Name the entry"),
        ("retire KB-x", "Name the entry"),
        ("edit #3", "Name the entry"),
    ):
        answer = await command(slack, "U0ENG1", "/kb", text)
        assert says in str(answer["text"]), text
        assert "\n" not in str(answer["text"]) and "blocks" not in answer
    assert await count(running, KbEntryRow) == 1
    assert slack.modal("U0ENG1") is None
    # the report form typed with no words, or 5,000 characters, stores nothing; a long text is
    # cut to its first 500 characters to look for matches, not refused
    await slack.slash_command(user="U0CUST", command="/report", channel="C0CUST1")
    form = await slack.wait_for(lambda: slack.modal("U0CUST"))
    for typed, offers in (
        ("？！。，……", False),
        ("   ", False),
        ("气象卫星" * 1250, False),
        ("登录超时" * 1250, True),
    ):
        before = slack.views[form.id].hash
        sent = await slack.block_action(
            user="U0CUST", action_id="value", block_id="summary", view_id=form.id, value=typed
        )
        assert sent.status == 200
        if offers:
            await slack.wait_for(lambda: slack.views[form.id].hash != before)  # noqa: B023
        blocks = slack.views[form.id].view["blocks"]
        offered = [b for b in blocks if b.get("block_id", "").startswith("kb_offer")]
        assert bool(offered) is offers, typed[:10]
    assert await count(running, KbEntryRow) == 1
    assert await count(running, KbAnswerRow) == 0
    assert await count(running, TicketRow) == 0
    assert slack.messages("C0SUPPORT") == []


async def test_report_this_from_a_mention_offers_the_same_matches(running: Running) -> None:
    slack = running.slack
    await kb.add_article(
        running.bot.ctx,
        user_id="U0ENG1",
        title="扫码枪扫不出条码",
        problem="扫码后输入框没有内容",
        answer="切换为英文输入法",
    )
    await slack.app_mention(
        user="U0CUST", channel="C0CUST1", text=f"<@{slack.bot_user_id}> 扫码枪扫了输入框是空的"
    )
    offer = await slack.wait_for(lambda: slack.ephemerals("U0CUST") or None)
    await slack.block_action(
        user="U0CUST", action_id="report_this", channel="C0CUST1", message_ts=offer[0].ts
    )
    modal = await slack.wait_for(lambda: slack.modal("U0CUST"))
    offered = [b for b in modal.view["blocks"] if b.get("block_id", "").startswith("kb_offer")]
    assert offered and "KB-1" in texts(offered)
    assert any(b.get("accessory", {}).get("action_id") == "kb_solved" for b in offered)
    # "This solved my problem": the offer stays true, as once a ticket is made of it
    await slack.block_action(
        user="U0CUST", action_id="kb_solved", block_id="kb_offer_0", view_id=modal.id
    )
    await slack.wait_for(lambda: slack.views[modal.id].view.get("callback_id") == "kb_solved_done")
    replaced = await slack.wait_for(
        lambda: next((e for e in slack.ephemerals("U0CUST") if "KB-1" in e.text), None)
    )
    assert replaced.ts == offer[0].ts and not replaced.blocks
    assert "No ticket was opened" in replaced.text
    assert await count(running, KbAnswerRow) == 1 and await count(running, TicketRow) == 0


async def test_words_too_long_for_a_title_are_kept_whole_in_the_problem(running: Running) -> None:
    slack = running.slack
    words = "打印机脱机后 " + "重启打印服务仍然无法连接，" * 20  # longer than a title's 150
    await command(slack, "U0ENG1", "/kb", f"add {words}")
    form = await slack.wait_for(lambda: slack.modal("U0ENG1"))
    initial = {
        b["block_id"]: b["element"].get("initial_value")
        for b in form.view["blocks"]
        if b.get("block_id") in ("title", "problem")
    }
    assert initial["problem"] == words.strip()
    assert len(initial["title"]) <= 150 and initial["title"].endswith("…")
    assert words.startswith(initial["title"][:-1])


async def test_a_button_naming_no_entry_says_so_and_changes_nothing(running: Running) -> None:
    """A button whose entry the knowledge base does not hold (made by hand, or from a database
    restored from before the entry) opens a line saying so over the form, which stays."""
    slack = running.slack
    await kb.add_article(
        running.bot.ctx, user_id="U0ENG1", title="登录超时", problem="转圈", answer="重启"
    )
    await slack.slash_command(user="U0CUST", command="/report", channel="C0CUST1")
    form = await slack.wait_for(lambda: slack.modal("U0CUST"))
    before = form.hash
    await slack.block_action(
        user="U0CUST", action_id="value", block_id="summary", view_id=form.id, value="登录超时"
    )
    await slack.wait_for(lambda: slack.views[form.id].hash != before)
    offer = next(
        b for b in slack.views[form.id].view["blocks"] if b.get("block_id") == "kb_offer_0"
    )
    offer["accessory"]["value"] = "article:99"  # the stand-in's copy of the form: forged
    pressed = await slack.block_action(
        user="U0CUST", action_id="kb_solved", block_id="kb_offer_0", view_id=form.id
    )
    assert pressed.status == 200
    await slack.wait_for(lambda: len(slack.modal_stack("U0CUST")) == 2 or None)
    missing = slack.modal_stack("U0CUST")[-1]
    assert missing.callback_id == "kb_missing"
    assert "There is no knowledge-base entry KB-99." in texts(missing.view)
    assert [v.id for v in slack.modal_stack("U0CUST")] == [form.id, missing.id]
    assert slack.views[form.id].view["callback_id"] == form.callback_id
    assert await count(running, KbAnswerRow) == 0

    # the same from a search's Open, shown alone
    await command(slack, "U0REP", "/kb", "登录超时")
    answer = slack.ephemerals("U0REP", "C0SUPPORT")[-1]
    (hit,) = [b for b in answer.blocks if b.get("accessory", {}).get("action_id") == "kb_open"]
    hit["accessory"]["value"] = "KB-98"
    await slack.block_action(
        user="U0REP", action_id="kb_open", channel="C0SUPPORT", message_ts=answer.ts
    )
    alone = await slack.wait_for(lambda: slack.modal("U0REP"))
    assert alone.callback_id == "kb_missing"
    assert "That button does not name a knowledge-base entry." in texts(alone.view)


async def test_an_entry_opened_shows_its_whole_answer(running: Running) -> None:
    """Open shows all of what an article says, up to its last character, also when escaping
    for mrkdwn makes it longer than one section holds (``&&``, ``<``, ``>`` in commands)."""
    slack = running.slack
    steps = "停止服务后执行 systemctl stop app && rm -rf /tmp/cache/* > /dev/null 2>&1；"
    answer = (steps * 100)[: 3000 - len("最后重启服务。")] + "最后重启服务。"
    assert len(answer) == 3000
    await kb.add_article(
        running.bot.ctx, user_id="U0ENG1", title="缓存损坏", problem="页面空白", answer=answer
    )
    await command(slack, "U0REP", "/kb", "缓存损坏")
    found = slack.ephemerals("U0REP", "C0SUPPORT")[-1]
    await slack.block_action(
        user="U0REP", action_id="kb_open", channel="C0SUPPORT", message_ts=found.ts
    )
    opened = await slack.wait_for(lambda: slack.modal("U0REP"))
    assert opened.callback_id == "kb_entry"
    shown = "".join(b["text"]["text"] for b in opened.view["blocks"] if b.get("type") == "section")
    for block in opened.view["blocks"]:
        assert len(block.get("text", {}).get("text", "")) <= 3000
    unescaped = shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert "最后重启服务。" in shown
    assert answer.replace("\n", "") in unescaped.replace("\n", "")


async def test_kb_help_alone_is_the_help_and_help_with_words_is_a_search(
    running: Running,
) -> None:
    slack = running.slack
    await kb.add_article(
        running.bot.ctx, user_id="U0ENG1", title="Help desk login fails", problem="p", answer="a"
    )
    helped = await command(slack, "U0REP", "/kb", "help")
    assert "/kb add" in str(helped["text"])
    searched = await command(slack, "U0REP", "/kb", "help desk login")
    assert "KB-1" in json.dumps(searched) and "/kb add" not in json.dumps(searched)
