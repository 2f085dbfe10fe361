"""Articles as Markdown files: the two forms read, the form written, and bad files."""

from __future__ import annotations

import pytest

from bot.domain.kb_markdown import ArticleFile, ArticleFileError, parse_article, render_article


def test_front_matter_form() -> None:
    source = (
        "---\nid: KB-3\ntitle: 数据库备份失败\n---\n\n## Problem\n\n备份任务报错\n\n"
        "## Answer\n\n清理磁盘\n## Note inside the answer\nkeep 7 days\n"
    )
    assert parse_article(source) == ArticleFile(
        number=3,
        title="数据库备份失败",
        problem="备份任务报错",
        answer="清理磁盘\n## Note inside the answer\nkeep 7 days",
    )


def test_heading_form_with_chinese_section_names() -> None:
    source = "# 打印机脱机\n\n## 问题：\n所有电脑显示打印机脱机\n\n## 解决方法\n给打印机固定IP\n"
    assert parse_article(source) == ArticleFile(
        number=None, title="打印机脱机", problem="所有电脑显示打印机脱机", answer="给打印机固定IP"
    )


def test_written_articles_read_back_the_same() -> None:
    text = render_article(7, "Login: timeout #2", "Line one\n\n- a\n- b", "Restart", retired=True)
    assert parse_article(text) == ArticleFile(
        7, "Login: timeout #2", "Line one\n\n- a\n- b", "Restart", True
    )


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("# Title\n\n## Problem\nsomething\n", "no answer"),
        ("## Problem\nx\n## Answer\ny\n", "no title"),
        ("---\ntitle: [unclosed\n---\n## Problem\nx\n## Answer\ny\n", "not YAML"),
        ("---\n- a list\n---\n", "key: value"),
        ("---\nid: 12\ntitle: t\n---\n## Problem\nx\n## Answer\ny\n", "not an article number"),
        ("# T\n## Problem\n" + "x" * 3001 + "\n## Answer\ny\n", "too long a problem"),
    ],
)
def test_bad_files_say_what_is_wrong(source: str, says: str) -> None:
    with pytest.raises(ArticleFileError, match=says):
        parse_article(source)
