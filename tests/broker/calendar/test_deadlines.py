"""Deadlines in working days and working time, on examples a desk would check by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from broker.calendar.days import WorkingCalendar, YearRules
from broker.calendar.deadlines import (
    CHINA,
    add_working_time,
    deadline_after,
    working_seconds_between,
    working_time_between,
)

CALENDAR = WorkingCalendar.packaged()
HOUR = timedelta(hours=1)


def cst(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CHINA)  # type: ignore[misc]


def test_a_request_filed_on_friday_is_not_due_on_sunday() -> None:
    # Friday 4 December 2026, 16:00: three working days are Mon, Tue, Wed.
    due = deadline_after(CALENDAR, cst(2026, 12, 4, 16), 3)
    assert due.at == cst(2026, 12, 9, 18)
    assert due.at.tzinfo is UTC
    assert due.assumed_years == frozenset()


def test_the_day_a_step_starts_is_not_counted_whatever_the_hour() -> None:
    assert deadline_after(CALENDAR, cst(2026, 12, 7, 8, 30), 1).at == cst(2026, 12, 8, 18)
    assert deadline_after(CALENDAR, cst(2026, 12, 7, 23, 59), 1).at == cst(2026, 12, 8, 18)
    # Just past midnight in Beijing is already the next day (16:30 UTC the day before).
    late = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)
    assert deadline_after(CALENDAR, late, 1).at == cst(2026, 12, 9, 18)


def test_the_national_day_week_is_not_seven_working_days() -> None:
    # Filed Wednesday 30 September 2026; 1-7 October are off, Saturday 10 October is worked.
    due = deadline_after(CALENDAR, cst(2026, 9, 30, 10), 3)
    assert due.at == cst(2026, 10, 10, 18)  # Thu 8, Fri 9, Sat 10 (调休)


def test_filing_on_the_last_day_of_the_last_known_year_counts_weekends_only_after_it() -> None:
    last = CALENDAR.last_known_year
    assert last is not None
    due = deadline_after(CALENDAR, cst(last, 12, 31, 17), 3)
    assert due.assumed_years == frozenset({last + 1})
    day = due.at.astimezone(CHINA).date()
    assert day.year == last + 1
    assert day.weekday() < 5


def test_the_file_s_year_removes_the_assumption() -> None:
    extra = {2027: YearRules(holidays=frozenset({date(2027, 1, 1)}), workdays=frozenset())}
    calendar = WorkingCalendar.packaged(extra)
    # Thursday 31 Dec 2026: Fri 1 Jan is off; Mon 4, Tue 5, Wed 6.
    due = deadline_after(calendar, cst(2026, 12, 31, 17), 3)
    assert due.at == cst(2027, 1, 6, 18)
    assert due.assumed_years == frozenset()


def test_a_limit_is_at_least_one_working_day() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        deadline_after(CALENDAR, cst(2026, 12, 7), 0)


def test_working_time_is_office_hours_of_working_days() -> None:
    # Friday 17:00 to Monday 10:00: one hour on Friday, one on Monday.
    assert working_time_between(CALENDAR, cst(2026, 12, 4, 17), cst(2026, 12, 7, 10)) == 2 * HOUR
    # A night is no working time; a whole office day is nine hours.
    assert working_time_between(CALENDAR, cst(2026, 12, 7, 19), cst(2026, 12, 8, 8)) == 0 * HOUR
    assert working_time_between(CALENDAR, cst(2026, 12, 8), cst(2026, 12, 9)) == 9 * HOUR
    assert working_time_between(CALENDAR, cst(2026, 12, 9), cst(2026, 12, 8)) == 0 * HOUR
    # The whole National Day week has none.
    assert working_time_between(CALENDAR, cst(2026, 10, 1), cst(2026, 10, 8)) == 0 * HOUR
    # The evaluation counts whole seconds.
    half = timedelta(seconds=1.5)
    assert working_seconds_between(CALENDAR, cst(2026, 12, 8, 10), cst(2026, 12, 8, 10) + half) == 1


def test_adding_working_time_skips_nights_weekends_and_holidays() -> None:
    # Friday 17:00 plus two hours: one on Friday, one on Monday from 09:00.
    assert add_working_time(CALENDAR, cst(2026, 12, 4, 17), 2 * HOUR).at == cst(2026, 12, 7, 10)
    # Nothing left, asked at night: the next office moment, on a working day.
    assert add_working_time(CALENDAR, cst(2026, 12, 5, 20), timedelta()).at == cst(2026, 12, 7, 9)
    # Exactly a day's worth from an opening ends at that day's close, not the next morning.
    assert add_working_time(CALENDAR, cst(2026, 12, 7, 9), 9 * HOUR).at == cst(2026, 12, 7, 18)


def test_a_hold_carries_the_working_time_that_was_left() -> None:
    due = deadline_after(CALENDAR, cst(2026, 12, 7, 10), 2).at  # Wednesday 9 Dec 18:00
    held_at, resumed_at = cst(2026, 12, 8, 10), cst(2026, 12, 8, 15)  # five office hours
    left = working_time_between(CALENDAR, held_at, due)
    assert left == 17 * HOUR
    assert add_working_time(CALENDAR, resumed_at, left).at == cst(2026, 12, 10, 14)
    # Held over a weekend night only: nothing moves.
    friday = deadline_after(CALENDAR, cst(2026, 12, 1, 10), 3).at  # Friday 4 Dec 18:00
    left = working_time_between(CALENDAR, cst(2026, 12, 2, 19), friday)
    assert add_working_time(CALENDAR, cst(2026, 12, 3, 8), left).at == friday


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        deadline_after(CALENDAR, datetime(2026, 12, 7, 10), 1)
