"""`escalator kb import DIR` and `escalator kb export DIR`, run as an admin runs them."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import run

ARTICLES = {
    "backup.md": (
        "---\nid: KB-4\ntitle: 数据库备份失败\n---\n\n## Problem\n\n凌晨自动备份报错\n\n"
        "## Answer\n\n清理磁盘，保留7天备份\n"
    ),
    "printer.md": (
        "# Printer offline\n\n## Problem\nEvery PC shows it offline\n\n## Answer\nFix its IP\n"
    ),
    "vpn.md": "# VPN断线\n\n## 问题\n十分钟断一次\n\n## 解决方法\n开启保活\n",
    "old.md": "---\ntitle: Old fax\nretired: true\n---\n## Problem\nFax\n## Answer\nNo fax\n",
}


def english(tmp_path: Path) -> dict[str, str]:
    """The environment of a bot configured to speak English (``language = "en"``)."""
    config = tmp_path / "escalator.toml"
    config.write_text('language = "en"\n', encoding="utf-8")
    return {"ESCALATOR_CONFIG": str(config)}


def test_articles_round_trip_through_import_and_export(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for name, text in ARTICLES.items():
        (source / name).write_text(text, encoding="utf-8")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}", **english(tmp_path)}
    imported = run("kb", "import", str(source), env=env)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.endswith("escalator: 4 articles imported.\n")
    # named numbers are kept; the others come after the highest one, in file name order
    assert "KB-4 数据库备份失败" in imported.stdout and "KB-5 Old fax" in imported.stdout

    first = tmp_path / "out1"
    exported = run("kb", "export", str(first), env=env)
    assert exported.returncode == 0, exported.stderr
    assert f"4 articles written to {first}." in exported.stdout
    names = sorted(p.name for p in first.iterdir())
    assert names == ["KB-4.md", "KB-5.md", "KB-6.md", "KB-7.md"]
    assert "retired: true" in (first / "KB-5.md").read_text(encoding="utf-8")

    # the exported files, imported into a new database, export the same files again
    env2 = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kb2.db'}"}
    assert run("kb", "import", str(first), env=env2).returncode == 0
    second = tmp_path / "out2"
    assert run("kb", "export", str(second), env=env2).returncode == 0
    for name in names:
        assert (second / name).read_text(encoding="utf-8") == (first / name).read_text(
            encoding="utf-8"
        )
    # importing the same files again replaces the articles, it does not copy them
    assert run("kb", "import", str(first), env=env2).returncode == 0
    third = tmp_path / "out3"
    assert run("kb", "export", str(third), env=env2).returncode == 0
    assert sorted(p.name for p in third.iterdir()) == names


def test_a_bad_file_stops_the_import_before_anything_is_stored(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "good.md").write_text(ARTICLES["printer.md"], encoding="utf-8")
    (source / "bad.md").write_text("# No answer here\n\n## Problem\nx\n", encoding="utf-8")
    (source / "worse.md").write_text("---\nid: 12\n---\n", encoding="utf-8")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}", **english(tmp_path)}
    result = run("kb", "import", str(source), env=env)
    assert result.returncode == 1
    assert "nothing imported" in result.stderr and "bad.md: no answer" in result.stderr
    assert "worse.md: id 12 is not an article number such as KB-3" in result.stderr
    out = tmp_path / "out"
    assert run("kb", "export", str(out), env=env).returncode == 0
    assert list(out.iterdir()) == []
    missing = run("kb", "import", str(tmp_path / "nowhere"), env=env)
    assert missing.returncode == 1 and "is not a folder" in missing.stderr


def test_the_command_speaks_the_configured_language(tmp_path: Path) -> None:
    """Chinese by default (``language = "zh-CN"``), as the bot does."""
    source = tmp_path / "in"
    source.mkdir()
    (source / "bad.md").write_text("# 没有解答\n\n## 问题\nx\n", encoding="utf-8")
    (source / "long.md").write_text("## 问题\n" + "x" * 3001 + "\n", encoding="utf-8")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}"}
    refused = run("kb", "import", str(source), env=env)
    assert refused.returncode == 1
    assert refused.stderr.startswith("escalator: 未导入任何内容：\n")
    assert "bad.md: 缺少解答" in refused.stderr
    assert "long.md: 缺少标题，问题太长，缺少解答" in refused.stderr
    missing = run("kb", "import", str(tmp_path / "nowhere"), env=env)
    assert missing.stderr == f"escalator: {tmp_path / 'nowhere'} 不是文件夹\n"
    (source / "bad.md").write_text(ARTICLES["vpn.md"], encoding="utf-8")
    (source / "long.md").unlink()
    imported = run("kb", "import", str(source), env=env)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.endswith("escalator: 已导入 1 篇文章。\n")
    migrated = run("migrate", env=env)
    assert migrated.stdout == "escalator: 数据库已是最新。\n"
