"""Deadlines in working days and working time between two moments: pure, no clock.

How a government office counts a time limit, and so how the broker does:

- **N working days** (N个工作日) run from the day after the step starts: the day it starts is not
  counted (期间开始的当日不计入, Civil Code art. 201, as the Administrative Licensing Law counts
  its working-day limits), and the limit ends with the office day of the Nth working day after
  it, at 18:00 China Standard Time: the close of the office day, when a desk stops taking
  matters, rather than midnight, when nobody is there to act and a deadline at 24:00 would be
  read as the next (perhaps non-working) day. A step started on a Friday evening with 3 working
  days is due at 18:00 on Wednesday; across the National Day week, 18:00 on the third working
  day after it.
- **Working time** is office time: 09:00-18:00 China Standard Time on working days, lunch
  included (the clock measures the office day, not hours at a desk). It is what a hold for
  clarification stops: the working time left until the deadline when the hold starts is what is
  left when it ends, so a hold from Friday 17:00 to Monday 10:00 moves the deadline by two hours
  of office time, not by 65 hours. The evaluation's decision times are working time too.

Every function returns the years it had to assume (`Deadline.assumed_years`): years the calendar
does not know, counted weekends only; the caller says so (a log line, a metric, a note).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from broker.calendar.days import WorkingCalendar

CHINA = ZoneInfo("Asia/Shanghai")
OFFICE_OPENS = time(9, 0)
OFFICE_CLOSES = time(18, 0)
OFFICE_DAY_SECONDS = 9 * 3600
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    at: datetime  # aware, UTC
    assumed_years: frozenset[int] = frozenset()  # unknown years crossed: counted weekends only


def china_day(moment: datetime) -> date:
    """The date a moment falls on in China Standard Time."""
    return _aware(moment).astimezone(CHINA).date()


def china_time(moment: datetime) -> str:
    """A moment as a problem's Chinese detail says it: `2026-12-08 18:00（北京时间）`."""
    return f"{_aware(moment).astimezone(CHINA):%Y-%m-%d %H:%M}（北京时间）"


def office_hours(day: date) -> tuple[datetime, datetime]:
    """When the office day `day` opens and closes, as UTC moments."""
    opens = datetime.combine(day, OFFICE_OPENS, tzinfo=CHINA).astimezone(UTC)
    closes = datetime.combine(day, OFFICE_CLOSES, tzinfo=CHINA).astimezone(UTC)
    return opens, closes


def deadline_after(calendar: WorkingCalendar, start: datetime, working_days: int) -> Deadline:
    """The close (18:00 CST) of the `working_days`th working day after the day `start` is on."""
    if working_days < 1:
        raise ValueError("a limit in working days is at least 1")
    day = china_day(start)
    assumed: set[int] = set()
    counted = 0
    while counted < working_days:
        day += DAY
        if not calendar.knows(day.year):
            assumed.add(day.year)
        if calendar.is_working_day(day):
            counted += 1
    return Deadline(office_hours(day)[1], frozenset(assumed))


def working_time_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> timedelta:
    """Office time in [start, end), to the microsecond; nothing when end is not after start."""
    total = timedelta()
    for opens, closes in _office_days(calendar, start, set()):
        if opens >= end:
            break
        total += max(timedelta(), min(closes, end) - max(opens, start))
    return total


def working_seconds_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> int:
    """Whole office seconds in [start, end): what the evaluation counts."""
    return working_time_between(calendar, start, end) // timedelta(seconds=1)


def add_working_time(calendar: WorkingCalendar, start: datetime, time: timedelta) -> Deadline:
    """The first moment at which `time` of office time has run since `start`: always inside a
    working day's office hours (09:00-18:00 CST, both ends included)."""
    if time < timedelta():
        raise ValueError("working time must not be negative")
    start = _aware(start)
    assumed: set[int] = set()
    left = time
    for opens, closes in _office_days(calendar, start, assumed):
        begin = max(opens, start)
        if begin > closes:
            continue  # started after this office day closed
        if begin + left <= closes:
            return Deadline(begin + left, frozenset(assumed))
        left -= closes - begin
    raise AssertionError("unreachable: every week has working days")  # pragma: no cover


def _office_days(
    calendar: WorkingCalendar, start: datetime, assumed: set[int]
) -> Iterator[tuple[datetime, datetime]]:
    """Office hours of each working day from the day `start` is on, onwards, without end;
    unknown years met on the way are added to `assumed`."""
    day = china_day(start)
    while True:
        if not calendar.knows(day.year):
            assumed.add(day.year)
        if calendar.is_working_day(day):
            yield office_hours(day)
        day += DAY


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a moment needs its time zone")
    return moment
