"""The bot and storage use SQLAlchemy on its public API only: no private names (a leading
underscore, anywhere in the import path), no ``sqlalchemy.util`` internals, and no dialect
of our own (a subclass of one of SQLAlchemy's dialects)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for package in ("bot", "storage") for p in (ROOT / package).rglob("*.py"))


def _private(name: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in name.split("."))


def violations(source: str) -> list[str]:
    """What in ``source`` reaches past SQLAlchemy's public API."""
    found: list[str] = []
    from_sqlalchemy: set[str] = set()  # local names bound to SQLAlchemy objects
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sqlalchemy":
                    from_sqlalchemy.add((alias.asname or alias.name).split(".")[0])
                    if _private(alias.name) or alias.name.startswith("sqlalchemy.util"):
                        found.append(f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            module = node.module or ""
            if _private(module) or module.startswith("sqlalchemy.util"):
                found.append(f"from {module} import ...")
            for alias in node.names:
                from_sqlalchemy.add(alias.asname or alias.name)
                if _private(alias.name):
                    found.append(f"from {module} import {alias.name}")
                if module.startswith("sqlalchemy.dialects") and "Dialect" in alias.name:
                    found.append(f"from {module} import {alias.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in from_sqlalchemy
        ):
            found.append(f"{node.value.id}.{node.attr}")
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = ast.unparse(base)
                if "Dialect" in name and name.split(".")[0] in from_sqlalchemy:
                    found.append(f"class {node.name}({name})")
    return found


def test_the_check_finds_what_it_looks_for() -> None:
    bad = """
from sqlalchemy.util.concurrency import await_
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy import util
import sqlalchemy._private
class Mine(SQLiteDialect_pysqlite):
    pass
util._is_url_file_db
"""
    assert violations(bad) == [
        "from sqlalchemy.util.concurrency import ...",
        "from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite",
        "import sqlalchemy._private",
        "class Mine(SQLiteDialect_pysqlite)",
        "util._is_url_file_db",
    ]
    assert violations("from sqlalchemy import select\nfrom sqlalchemy.pool import Pool\n") == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_public_sqlalchemy(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []
