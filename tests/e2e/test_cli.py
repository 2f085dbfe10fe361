"""The command line as an admin uses it: real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from tests.harness import free_port

ESCALATOR = [sys.executable, "-m", "bot.cli"]
ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "ESCALATOR_", "DATABASE_"))
    }
    return subprocess.run(
        [*ESCALATOR, *args],
        env={**base, **(env or {})},
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_console_script_is_installed() -> None:
    assert (Path(sys.executable).parent / "escalator").exists()


def test_manifest_declares_commands_shortcut_scopes_and_events() -> None:
    result = run("manifest", "--url", "https://bot.example.org")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/report", "/ticket", "/oncall", "/kb"}
    assert commands["/report"]["url"] == "https://bot.example.org/slack/events"
    assert manifest["features"]["shortcuts"][0]["callback_id"] == "report_message"
    assert "commands" in manifest["oauth_config"]["scopes"]["bot"]
    assert "files:write" in manifest["oauth_config"]["scopes"]["bot"]  # the review's chart
    assert "app_mention" in manifest["settings"]["event_subscriptions"]["bot_events"]


def test_check_config_prints_the_policy_and_names_a_bad_key(tmp_path: Path) -> None:
    good = run("check-config", str(ROOT / "bot" / "demo" / "config.toml"))
    assert good.returncode == 0, good.stderr
    assert "OK" in good.stdout and "A in warranty" in good.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[roles]\nengineers = ["U0ENG1"]\nchefs = ["U0X1"]\n')
    result = run("check-config", str(bad))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line
    assert "roles.chefs" in result.stderr
    assert "Traceback" not in result.stderr
    assert "plan: call 1d, survey 1d, visit 1mo" in good.stdout
    assert "service plan: call 2w, survey 1mo" in good.stdout
    cadence = tmp_path / "cadence.toml"
    cadence.write_text(
        '[[customers]]\nname = "X"\nchannel = "C0X1"\n[customers.plan]\ncall = "2x"\n'
    )
    result = run("check-config", str(cadence))
    assert result.returncode == 1 and "customers[0].plan.call" in result.stderr
    gbk = tmp_path / "gbk.toml"  # a config saved by a Chinese editor's default encoding
    gbk.write_bytes('[[customers]]\nname = "高速公路监控中心"\nchannel = "C0X1"\n'.encode("gbk"))
    result = run("check-config", str(gbk))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "is not UTF-8" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = run("check-config", env={"DATABASE_URL": "mysql://nope"})  # any error: exit 1
    assert result.returncode == 1 and "DATABASE_URL" in result.stderr


def test_missing_setting_stops_serve_with_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run("serve", env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"})
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "escalator: SLACK_BOT_TOKEN: is required (the bot token, xoxb-…)"
    )
    result = run(
        "serve", env={"SLACK_BOT_TOKEN": "xoxb-1", "ESCALATOR_CONFIG": "/nonexistent.toml"}
    )
    assert result.returncode == 2
    assert "ESCALATOR_CONFIG" in result.stderr and "Traceback" not in result.stderr


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    result = run("migrate", env={"DATABASE_URL": f"sqlite+aiosqlite:///{path}"})
    assert result.returncode == 0, result.stderr
    tables = {r[0] for r in sqlite3.connect(path).execute("select name from sqlite_master")}
    assert {"tickets", "ticket_events", "outbox", "counters", "alembic_version"} <= tables
    assert run("migrate", env={"DATABASE_URL": f"sqlite+aiosqlite:///{path}"}).returncode == 0


def test_serve_answers_health_and_metrics_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ESCALATOR_"))},
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "test-secret",
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
    }
    proc = subprocess.Popen(
        [*ESCALATOR, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = _get_when_up(f"http://127.0.0.1:{port}/healthz")
        assert json.loads(body)["status"] == "ok"
        metrics = _get_when_up(f"http://127.0.0.1:{port}/metrics")
        assert "escalator_outbox_pending 0" in metrics
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        _, stderr = proc.communicate()
        assert "xoxb-test-token" not in stderr and "test-secret" not in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _get_when_up(url: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_report_writes_the_chart_and_the_csv_without_slack(tmp_path: Path) -> None:
    import asyncio
    import csv
    import io

    from PIL import Image

    from bot.config import parse_config
    from bot.services.context import Context
    from storage.db import Database
    from storage.migrate import migrate
    from tests.conftest import CONFIG_DATA, START
    from tests.fakes import FakeClock
    from tests.integration.review_support import known_month

    url = f"sqlite+aiosqlite:///{tmp_path / 'escalator.db'}"

    async def fill() -> None:
        db = Database(url)
        await migrate(db)
        clock = FakeClock(START)
        await known_month(Context(db=db, config=parse_config(CONFIG_DATA), clock=clock), clock)
        await db.close()

    asyncio.run(fill())
    out = tmp_path / "out" / "2026-11"
    result = run("report", "--month", "2026-11", "--out", str(out), env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "review-2026-11.png" in result.stdout
    image = Image.open(out / "review-2026-11.png")
    assert image.format == "PNG" and image.size == (1100, 750)
    rows = list(csv.reader(io.StringIO((out / "tickets-2026-11.csv").read_text("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["#1", "#2", "#3"]
    assert rows[1][7:9] == ["2026-11-23 10:00", "2026-11-23 10:10"]  # reported, acknowledged
    bad = run("report", "--month", "2026-13", "--out", str(out), env={"DATABASE_URL": url})
    assert bad.returncode == 1 and "YYYY-MM" in bad.stderr


def test_a_path_or_port_that_cannot_be_used_is_one_line(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert run("migrate", env={"DATABASE_URL": db}).returncode == 0
    for args in (
        ("backup", str(tmp_path / "no" / "such" / "copy.db")),
        ("report", "--month", "2026-11", "--out", "/proc/escalator-review"),
        ("kb", "export", "/proc/escalator-kb"),
    ):
        result = run(*args, env={"DATABASE_URL": db})
        assert result.returncode == 1, args
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith("escalator: "), result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {"DATABASE_URL": db, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
        result = run("serve", "--host", "127.0.0.1", "--port", port, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "address already in use" in result.stderr.lower()
    for port in ("99999", "http"):
        result = run("serve", "--port", port, env=env)
        assert result.returncode == 2 and f"{port} is not a port" in result.stderr


def test_a_config_file_given_as_an_argument_is_named_as_such_when_unreadable(
    tmp_path: Path,
) -> None:
    """The line names what gave the path: the admin typed no ESCALATOR_CONFIG."""
    missing = str(tmp_path / "nope.toml")
    checked = run("check-config", missing)
    assert checked.returncode == 1
    assert (
        checked.stderr.strip()
        == f"escalator: FILE: cannot read {missing}: No such file or directory"
    )
    asked = run(
        "deadlines", "--severity", "A", "--reported", "2026-11-30T10:00", "--config", missing
    )
    assert asked.returncode == 2
    assert asked.stderr.strip().startswith(f"escalator: --config: cannot read {missing}")
    from_env = run("check-config", env={"ESCALATOR_CONFIG": missing})
    assert from_env.stderr.strip().startswith("escalator: ESCALATOR_CONFIG: cannot read")
