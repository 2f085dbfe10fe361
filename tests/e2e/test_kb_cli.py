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


def test_articles_round_trip_through_import_and_export(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for name, text in ARTICLES.items():
        (source / name).write_text(text, encoding="utf-8")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}"}
    imported = run("kb", "import", str(source), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "4 articles imported" in imported.stdout
    # named numbers are kept; the others come after the highest one, in file name order
    assert "KB-4 数据库备份失败" in imported.stdout and "KB-5 Old fax" in imported.stdout

    first = tmp_path / "out1"
    exported = run("kb", "export", str(first), env=env)
    assert exported.returncode == 0, exported.stderr
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
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}"}
    result = run("kb", "import", str(source), env=env)
    assert result.returncode == 1
    assert "nothing imported" in result.stderr and "bad.md: no answer" in result.stderr
    out = tmp_path / "out"
    assert run("kb", "export", str(out), env=env).returncode == 0
    assert list(out.iterdir()) == []
    missing = run("kb", "import", str(tmp_path / "nowhere"), env=env)
    assert missing.returncode == 1 and "is not a folder" in missing.stderr
