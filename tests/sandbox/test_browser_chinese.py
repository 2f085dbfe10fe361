"""The sandbox in Chinese (the demo config's default language), in a real browser: the page's
own words, its dates (24-hour), and the bot's replies, thread lines and Home tab in Chinese.
Screenshots go to a temporary folder (``ESCALATOR_SCREENSHOTS`` names another) to be looked at.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.sandbox.run import Sandbox
from bot.slack.i18n import Language

from .sandbox_support import running_sandbox
from .test_browser import STEP_MS, act_as, browser, pytestmark  # noqa: F401

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page


@pytest.fixture
async def zh_sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with running_sandbox(tmp_path, Language.ZH_CN) as running:
        yield running


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ESCALATOR_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def zh_page(browser: Browser, zh_sandbox: Sandbox) -> AsyncIterator[Page]:  # noqa: F811
    context = await browser.new_context(
        viewport={"width": 1400, "height": 860}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    opened = await context.new_page()
    opened.set_default_timeout(STEP_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    await opened.goto(zh_sandbox.url)
    await opened.locator(".nav-item.active[data-channel='C0SUPPORT']").wait_for()
    yield opened
    await context.close()
    assert errors == [], f"the page threw: {errors}"


async def send(page: Page, text: str) -> None:
    composer = page.locator("#composer-input")
    await composer.fill(text)
    await composer.press("Enter")


async def test_the_sandbox_speaks_chinese(zh_sandbox: Sandbox, zh_page: Page, shots: Path) -> None:
    from playwright.async_api import expect

    page = zh_page
    assert await page.evaluate("document.documentElement.lang") == "zh-CN"
    titles = await page.locator(".section-title").all_inner_texts()
    assert titles == ["频道", "私信", "应用"]
    await expect(page.locator(".acting-label")).to_have_text("当前身份")
    people = await page.locator("#user-switch option").all_inner_texts()
    assert "Rita Reporter — 报告人" in people and "Max Manager — 经理" in people, people
    assert not [p for p in people if re.search(r"— .*[a-z]", p)], people  # roles in Chinese
    await expect(page.locator("#composer-input")).to_have_attribute(
        "placeholder", "发消息到 #support"
    )
    assert await page.title() == "Escalator 沙盒"
    # a Slack date token as a Chinese reader's client shows it: 24-hour
    shown = await page.evaluate("Mrkdwn.formatDate(1795314690, '{date_num} {time}')")
    assert shown == "2026-11-22 10:31"

    # report a class A problem through the form, with Chinese answers
    await send(page, "/report 数据库宕机")
    modal = page.locator(".modal")
    await expect(modal.locator("[data-block-id='summary'] input")).to_have_value("数据库宕机")
    await modal.locator("[data-block-id='details'] textarea").fill("九点起所有页面都打不开")
    await modal.locator("[data-block-id='triage_stopped'] input[type='radio']").first.check()
    await expect(modal).to_contain_text("A")
    await modal.locator(".btn-primary").click()
    await expect(modal).to_contain_text("#1")
    await page.screenshot(path=str(shots / "zh-report-confirmed.png"))
    await modal.locator(".modal-foot .btn").first.click()
    await expect(modal).to_have_count(0)
    ticket = page.locator("#messages .msg").filter(has_text="#1 数据库宕机")
    await expect(ticket).to_contain_text("九点起所有页面都打不开")
    await expect(ticket.locator(".app-badge")).to_have_text("应用")
    when = await ticket.locator(".msg-time").get_attribute("title")
    assert when is not None and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", when), when

    # the engineer acknowledges by the Chinese subcommand and records the cause
    await act_as(page, "U0ENG1")
    await send(page, "/ticket 确认 1")
    reply = page.locator("#messages .msg.ephemeral").filter(has_text="你已确认 #1")
    await expect(reply).to_contain_text("仅你可见")
    await expect(reply).to_contain_text("请先备份数据")
    await send(page, "/ticket 原因 1 磁盘满了")
    await expect(
        page.locator("#messages .msg.ephemeral").filter(has_text="已记录 #1 的原因")
    ).to_have_count(1)
    await page.screenshot(path=str(shots / "zh-commands.png"))

    # the ticket's thread tells its story in Chinese
    standin = zh_sandbox.standin
    message = next(m for m in standin.messages("C0SUPPORT") if "#1" in m.text)
    await standin.wait_for(
        lambda: any("磁盘满了" in m.text for m in standin.messages("C0SUPPORT", message.ts)),
        timeout=STEP_MS / 1000,
    )
    await page.locator(f"#messages .msg[data-ts='{message.ts}'] .thread-link").click()
    thread = page.locator("#thread-messages")
    await expect(page.locator("#thread .reply-count")).to_contain_text("条回复")
    await expect(thread).to_contain_text("#1 由 @Rita Reporter 报告，A 类。严重影响整个系统运行")
    await expect(thread).to_contain_text("确认了 #1")
    await expect(thread).to_contain_text("确定了 #1 的原因：磁盘满了")
    await page.screenshot(path=str(shots / "zh-thread.png"))

    # the App Home tab in Chinese
    await page.locator("#app-list .nav-item").first.click()
    home = page.locator("#home")
    await expect(home).to_contain_text("当前值班")
    await expect(home).to_contain_text("我未关闭的工单")
    await page.screenshot(path=str(shots / "zh-home.png"))
    for name in ("zh-report-confirmed.png", "zh-commands.png", "zh-thread.png", "zh-home.png"):
        assert (shots / name).stat().st_size > 10_000
