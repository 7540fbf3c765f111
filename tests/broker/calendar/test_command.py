"""`cdo-broker calendar`: an operator checks HOLIDAYS_FILE and the years it gives, as the broker
will read them at start."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from broker.calendar.days import WorkingCalendar
from testing.processes import cdo_broker

LAST = WorkingCalendar.packaged().last_known_year or 2026
NO_DATABASE = "sqlite+aiosqlite:///:memory:"  # the command reads none


def calendar_command(
    *args: str, holidays_file: Path | None, monkeypatch: pytest.MonkeyPatch
) -> subprocess.CompletedProcess[str]:
    if holidays_file is None:
        monkeypatch.delenv("HOLIDAYS_FILE", raising=False)
    else:
        monkeypatch.setenv("HOLIDAYS_FILE", str(holidays_file))
    return cdo_broker("calendar", *args, database_url=NO_DATABASE)


def test_it_prints_where_each_year_comes_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    next_year = LAST + 1
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text(
        f"{next_year}:\n  notice: 国办发明电〔{LAST}〕1号\n"
        f"  holidays: [{next_year}-01-01]\n  workdays: []\n",
        encoding="utf-8",
    )
    years = ("--year", str(LAST), "--year", str(next_year), "--year", str(next_year + 1))
    result = calendar_command(*years, holidays_file=holidays, monkeypatch=monkeypatch)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["holidays_file"] == str(holidays)
    assert printed["last_known_year"] == next_year
    by_year = {entry["year"]: entry for entry in printed["years"]}
    assert by_year[LAST]["source"] == "package"
    assert by_year[next_year]["source"] == "file"
    assert by_year[next_year + 1]["source"] == "weekends-only"
    assert by_year[next_year + 1]["weekdays_off"] == []
    assert f"{next_year}-01-01" in by_year[next_year]["weekdays_off"] or (
        by_year[next_year]["weekdays_off"] == []  # 1 January on a weekend
    )


def test_a_bad_file_exits_2_naming_the_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("2030:\n  holidays: [2030-10-01]\n  workdays: [2030-10-08]\n")
    result = calendar_command(holidays_file=holidays, monkeypatch=monkeypatch)
    assert result.returncode == 2
    assert "$['2030'].workdays[0]: 2030-10-08 is a Tuesday" in result.stderr
    assert str(holidays) in result.stderr
