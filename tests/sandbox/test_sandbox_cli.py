"""``escalator sandbox`` as a newcomer runs it: a real subprocess, stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.harness import free_port

ROOT = Path(__file__).resolve().parents[2]


def clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "ESCALATOR_", "DATABASE_"))
    }


def without_pool_reset_noise(stderr: str) -> str:
    """stderr without SQLAlchemy's "Exception during reset" records.

    The bot's workers are cancelled at stop; one cancelled inside a query makes SQLAlchemy
    log that record (bot/app.py's stop, reported to the lead). Any other traceback counts.
    """
    records = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", stderr)
    return "\n".join(r for r in records if "Exception during reset or similar" not in r)


def test_sandbox_prints_its_url_serves_the_page_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed once everything listens
        assert first.strip() == f"escalator sandbox: open http://127.0.0.1:{port}", first
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert b"Escalator Sandbox" in response.read()
        url = f"http://127.0.0.1:{port}/sandbox/api/state?user=U0REP1"
        with urllib.request.urlopen(url, timeout=10) as response:
            state = json.load(response)
        assert {c["name"] for c in state["channels"]} >= {"support", "managers"}
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in without_pool_reset_noise(stderr), stderr
    assert (tmp_path / "escalator-sandbox.db").exists()  # SQLite under the working directory


def test_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port)],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    # in the configured language: Chinese by default
    assert result.stderr.strip().startswith(f"escalator: sandbox：无法监听 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr
