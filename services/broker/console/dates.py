"""Dates and times as people read and type them: China Standard Time; a day typed as a date
covers it from 00:00 to 24:00 (CONTRACT v2, "Dates")."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def cst(moment: datetime | None) -> str:
    """A moment as people read it: China Standard Time, to the minute."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA)


def end_of_day(day: date) -> datetime:
    """The end of `day`: 24:00, i.e. the next day's 00:00."""
    return start_of_day(day + timedelta(days=1))


def last_day(end: datetime) -> date:
    """The last day a period ending at `end` covers, as a date input shows it."""
    return (end.astimezone(CHINA) - timedelta(microseconds=1)).date()


def period(start: datetime, end: datetime, lang: str) -> str:
    """A period as people read it: whole days as the dates they typed (the last day, not the
    next day's 00:00), anything else to the minute."""
    joiner = " 至 " if lang == "zh" else " to "
    if start.astimezone(CHINA).time() == end.astimezone(CHINA).time() == time.min:
        first = start.astimezone(CHINA).date()
        return f"{first.isoformat()}{joiner}{last_day(end).isoformat()}"
    return f"{cst(start)}{joiner}{cst(end)}"
