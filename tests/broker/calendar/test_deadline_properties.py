"""Properties over every year the calendar knows (and the years after it): no deadline falls on
a non-working day or outside office hours, limits count exactly N working days, a hold carries
the working time that was left, and the last known year's 31 December still gives a deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from broker.calendar.days import WorkingCalendar, YearRules
from broker.calendar.deadlines import (
    CHINA,
    OFFICE_CLOSES,
    OFFICE_OPENS,
    add_working_time,
    china_day,
    deadline_after,
    working_time_between,
)

# The packaged years plus one an operator added in HOLIDAYS_FILE (a National Day week, a
# make-up Saturday), so the file's years are covered as well as the package's.
EXTRA_YEAR = (WorkingCalendar.packaged().last_known_year or 2026) + 1
CALENDAR = WorkingCalendar.packaged(
    {
        EXTRA_YEAR: YearRules(
            holidays=frozenset(date(EXTRA_YEAR, 10, d) for d in range(1, 8)),
            workdays=frozenset(
                d for d in (date(EXTRA_YEAR, 9, 26), date(EXTRA_YEAR, 10, 9)) if d.weekday() >= 5
            ),
        )
    }
)
FIRST = min(CALENDAR.years)
LAST = CALENDAR.last_known_year or EXTRA_YEAR
FAST = settings(deadline=None, max_examples=400, database=None)

# Any moment from the first known year to two years past the last: known and unknown years.
moments = st.datetimes(
    min_value=datetime(FIRST, 1, 1), max_value=datetime(LAST + 2, 12, 31, 23, 59)
).map(lambda naive: naive.replace(tzinfo=CHINA).astimezone(UTC))
limits = st.integers(min_value=1, max_value=60)
# Working time to the microsecond, up to forty office days.
spans = st.integers(min_value=0, max_value=40 * 9 * 3600 * 10**6).map(
    lambda us: timedelta(microseconds=us)
)


def _in_office_hours_of_a_working_day(moment: datetime) -> bool:
    local = moment.astimezone(CHINA)
    return CALENDAR.is_working_day(local.date()) and OFFICE_OPENS <= local.time() <= OFFICE_CLOSES


@FAST
@given(moments, limits)
def test_no_deadline_falls_on_a_non_working_day(start: datetime, days: int) -> None:
    due = deadline_after(CALENDAR, start, days)
    local = due.at.astimezone(CHINA)
    assert CALENDAR.is_working_day(local.date())
    assert local.time() == OFFICE_CLOSES
    # Exactly `days` working days after the start's day, up to and including the deadline's.
    first = china_day(start)
    between = [first + timedelta(days=n) for n in range(1, (local.date() - first).days + 1)]
    assert sum(CALENDAR.is_working_day(day) for day in between) == days
    assert due.assumed_years == {day.year for day in between if not CALENDAR.knows(day.year)}


@FAST
@given(moments, limits)
def test_a_longer_limit_never_ends_earlier(start: datetime, days: int) -> None:
    assert deadline_after(CALENDAR, start, days).at < deadline_after(CALENDAR, start, days + 1).at


@FAST
@given(moments, spans)
def test_added_working_time_ends_in_office_hours_and_measures_back(
    start: datetime, time: timedelta
) -> None:
    end = add_working_time(CALENDAR, start, time).at
    assert end >= start
    assert _in_office_hours_of_a_working_day(end)
    assert working_time_between(CALENDAR, start, end) == time


@FAST
@given(moments, limits, spans, spans)
def test_a_hold_carries_the_working_time_left(
    start: datetime, days: int, until_hold: timedelta, held: timedelta
) -> None:
    due = deadline_after(CALENDAR, start, days).at
    held_at = add_working_time(CALENDAR, start, until_hold).at
    resumed_at = add_working_time(CALENDAR, held_at, held).at
    left = working_time_between(CALENDAR, held_at, due)
    new_due = add_working_time(CALENDAR, resumed_at, left).at
    assert _in_office_hours_of_a_working_day(new_due)
    assert working_time_between(CALENDAR, resumed_at, new_due) == left
    assert new_due >= due  # a hold never shortens the time to decide


@FAST
@given(st.times(), limits, st.booleans())
def test_filing_on_31_december_of_the_last_known_year_works(
    at: time, days: int, with_file: bool
) -> None:
    calendar = CALENDAR if with_file else WorkingCalendar.packaged()
    last = calendar.last_known_year
    assert last is not None
    start = datetime.combine(date(last, 12, 31), at, tzinfo=CHINA)
    due = deadline_after(calendar, start, days)
    local = due.at.astimezone(CHINA)
    assert local.year == last + 1
    assert local.time() == OFFICE_CLOSES
    assert calendar.is_working_day(local.date())
    assert due.assumed_years == {last + 1}
