"""Dates as people type them: a day in China Standard Time (CONTRACT v2, "Dates")."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from broker.console.web import CHINA


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA)


def end_of_day(day: date) -> datetime:
    """The end of `day`: 24:00, i.e. the next day's 00:00."""
    return start_of_day(day + timedelta(days=1))


def last_day(end: datetime) -> date:
    """The last day a period ending at `end` covers, as a date input shows it."""
    return (end.astimezone(CHINA) - timedelta(microseconds=1)).date()
