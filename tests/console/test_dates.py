"""Dates as people type and read them: a typed day covers 00:00 to 24:00 China Standard Time,
and such a period reads back as the days typed."""

from __future__ import annotations

from datetime import UTC, date, datetime

from broker.console.dates import end_of_day, last_day, period, start_of_day


def test_a_period_of_whole_days_reads_as_the_days_typed() -> None:
    start, end = start_of_day(date(2026, 12, 7)), end_of_day(date(2027, 3, 31))
    assert end.astimezone(UTC) == datetime(2027, 3, 31, 16, tzinfo=UTC)  # 24:00 in Beijing
    assert last_day(end) == date(2027, 3, 31)
    assert period(start, end, "zh") == "2026-12-07 至 2027-03-31"
    assert period(start.astimezone(UTC), end.astimezone(UTC), "en") == "2026-12-07 to 2027-03-31"


def test_any_other_period_reads_to_the_minute_in_beijing_time() -> None:
    start = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
    end = datetime(2027, 12, 7, 1, 30, tzinfo=UTC)
    assert period(start, end, "zh") == "2026-12-07 09:30 至 2027-12-07 09:30"
