"""The bench scripts still run against the code as it is (two had stopped: an import moved, a
function took a new argument), at sizes small enough for the suite. Their figures are not
read here: speed is measured by running them (README, docs/benchmarks.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SMALL_RUNS = {
    "sla.py": ["--adds", "2000"],
    "review.py": ["--tickets", "300", "--runs", "1"],
    "kb.py": ["--entries", "300", "--searches", "20"],
    "pages.py": ["--reports", "5"],
    "ratios.py": ["--rounds", "1", "--requests", "60"],
    "start.py": ["--tickets", "500"],
    "web_api.py": ["--calls", "20", "--rounds", "1"],
}


@pytest.mark.sqlite_only  # the benches make SQLite files of their own
@pytest.mark.parametrize("script", sorted(SMALL_RUNS))
def test_the_bench_runs_and_prints_its_table(script: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESCALATOR_", "KB_BENCH_"))}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *SMALL_RUNS[script]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "|---" in done.stdout.replace(" ", ""), done.stdout[-2000:]  # its table
