"""Which days are working days: pure, over plain dates.

A year is known from the State Council's notice on public holidays (国务院办公厅关于某年部分节假日
安排的通知): its `holidays` are the days off (the festival days and the weekdays moved to them) and
its `workdays` the make-up working days (调休, weekends worked instead). Outside those lists a
weekday works and a weekend rests. The `chinese-calendar` package carries the notices of the
years announced when it was released; `HOLIDAYS_FILE` adds later ones (and replaces a packaged
year it names, should a notice be amended). A year known to neither counts weekends only: the
answer is then an assumption, and `WorkingCalendar.knows` lets callers say so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from chinese_calendar import constants as packaged


class Source(StrEnum):
    package = "package"  # the chinese-calendar package's data
    file = "file"  # HOLIDAYS_FILE
    weekends_only = "weekends-only"  # known to neither: Saturdays and Sundays rest, nothing else


@dataclass(frozen=True)
class YearRules:
    """One year's notice: days off on weekdays (and festival weekends), and weekends worked."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class WorkingCalendar:
    years: Mapping[int, YearRules]
    sources: Mapping[int, Source] = field(default_factory=dict)

    @classmethod
    def packaged(cls, extra: Mapping[int, YearRules] | None = None) -> WorkingCalendar:
        """The package's years, with `extra` (from HOLIDAYS_FILE) added or replacing them."""
        years = packaged_years()
        sources = dict.fromkeys(years, Source.package)
        for year, rules in (extra or {}).items():
            years[year] = rules
            sources[year] = Source.file
        return cls(years=years, sources=sources)

    def knows(self, year: int) -> bool:
        return year in self.years

    def source(self, year: int) -> Source:
        if year not in self.years:
            return Source.weekends_only
        return self.sources.get(year, Source.package)

    @property
    def last_known_year(self) -> int | None:
        """The latest year the calendar knows: deadlines past it count weekends only."""
        return max(self.years) if self.years else None

    def is_working_day(self, day: date) -> bool:
        rules = self.years.get(day.year)
        if rules is not None:
            if day in rules.workdays:
                return True
            if day in rules.holidays:
                return False
        return day.weekday() < 5


def year_summary(calendar: WorkingCalendar, year: int) -> dict[str, object]:
    """What `cdo-broker calendar` prints for a year: where its rules come from, the weekdays
    off, the weekends worked and how many working days it has (about 250 in a known year)."""
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(366)]
    days = [day for day in days if day.year == year]
    working = [day for day in days if calendar.is_working_day(day)]
    return {
        "year": year,
        "source": calendar.source(year).value,
        "weekdays_off": [d.isoformat() for d in days if d.weekday() < 5 and d not in working],
        "weekends_worked": [d.isoformat() for d in working if d.weekday() >= 5],
        "working_days": len(working),
    }


def packaged_years() -> dict[int, YearRules]:
    """Every year the package covers, even one whose notice moved no weekend (no workdays)."""
    holidays = _by_year(packaged.holidays)
    workdays = _by_year(packaged.workdays)
    first, last = min(holidays), max(holidays)
    return {
        year: YearRules(frozenset(holidays.get(year, ())), frozenset(workdays.get(year, ())))
        for year in range(first, last + 1)
    }


def _by_year(days: Iterable[date]) -> dict[int, set[date]]:
    grouped: dict[int, set[date]] = defaultdict(set)
    for day in days:
        grouped[day.year].add(day)
    return grouped
