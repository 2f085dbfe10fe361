"""``escalator deadlines`` across the end of the installed holiday data: a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import run


def test_deadlines_reaching_a_year_without_official_data_are_printed_as_provisional() -> None:
    result = run("deadlines", "--severity", "C", "--reported", "2026-12-30T16:00")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "respond": "2026-12-31T11:00:00+08:00",
        "diagnose": "2026-12-31T15:00:00+08:00",
        "plan": "2027-01-04T15:00:00+08:00",  # over New Year's Day 2027, estimated
        "provisional": True,
    }


def test_official_data_in_the_config_makes_them_final(tmp_path: Path) -> None:
    config = tmp_path / "escalator.toml"
    config.write_text(
        '[calendar]\nextra_holidays = ["2027-01-01", "2027-01-04"]\nown_holiday_years = [2027]\n'
    )
    result = run(
        "deadlines", "--config", str(config), "--severity", "C", "--reported", "2026-12-30T16:00"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "respond": "2026-12-31T11:00:00+08:00",
        "diagnose": "2026-12-31T15:00:00+08:00",
        "plan": "2027-01-05T15:00:00+08:00",
    }


def test_only_the_end_of_the_calendar_is_refused(tmp_path: Path) -> None:
    result = run("deadlines", "--severity", "C", "--reported", "9999-12-31T17:00")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "离日历的终点（9999 年）太近" in result.stderr  # the configured language: Chinese
    english = tmp_path / "escalator.toml"
    english.write_text('language = "en"\n', encoding="utf-8")
    result = run(
        "deadlines", "--severity", "C", "--reported", "9999-12-31T17:00", "--config", str(english)
    )
    assert result.returncode == 1 and "end of the calendar" in result.stderr
