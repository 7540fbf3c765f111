"""Which days work: the State Council's notices as packaged, the operator's years on top, and
weekends only for a year neither knows."""

from __future__ import annotations

from datetime import date

from broker.calendar.days import Source, WorkingCalendar, YearRules, year_summary

PACKAGED = WorkingCalendar.packaged()


def test_the_packaged_notices_move_weekends_and_holidays() -> None:
    assert not PACKAGED.is_working_day(date(2026, 10, 1))  # National Day, a Thursday
    assert not PACKAGED.is_working_day(date(2026, 10, 7))  # the week's last day off, a Wednesday
    assert PACKAGED.is_working_day(date(2026, 10, 10))  # a Saturday worked instead (调休)
    assert PACKAGED.is_working_day(date(2026, 10, 9))  # an ordinary Friday
    assert not PACKAGED.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    assert PACKAGED.is_working_day(date(2021, 5, 8))  # Labour Day 2021: Saturday 8 May worked
    assert not PACKAGED.is_working_day(date(2021, 5, 4))


def test_a_year_the_package_lacks_counts_weekends_only_and_says_so() -> None:
    year = PACKAGED.last_known_year
    assert year is not None
    assert year >= 2026
    unknown = year + 1
    assert not PACKAGED.knows(unknown)
    assert PACKAGED.source(unknown) is Source.weekends_only
    new_years_day = date(unknown, 1, 1)
    assert PACKAGED.is_working_day(new_years_day) is (new_years_day.weekday() < 5)


def test_the_file_adds_a_year_and_replaces_one_it_names() -> None:
    extra = {
        2027: YearRules(holidays=frozenset({date(2027, 1, 1)}), workdays=frozenset()),
        2026: YearRules(holidays=frozenset(), workdays=frozenset({date(2026, 10, 11)})),
    }
    calendar = WorkingCalendar.packaged(extra)
    assert calendar.source(2027) is Source.file
    assert calendar.last_known_year == 2027
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 4))
    # 2026 is the file's now: its National Day is gone, its one worked Sunday counts.
    assert calendar.source(2026) is Source.file
    assert calendar.is_working_day(date(2026, 10, 1))
    assert calendar.is_working_day(date(2026, 10, 11))
    assert PACKAGED.source(2026) is Source.package


def test_a_year_summary_counts_its_working_days() -> None:
    summary = year_summary(PACKAGED, 2026)
    assert summary["source"] == "package"
    assert "2026-10-01" in summary["weekdays_off"]  # type: ignore[operator]
    assert "2026-10-10" in summary["weekends_worked"]  # type: ignore[operator]
    assert 245 <= summary["working_days"] <= 252  # type: ignore[operator]
