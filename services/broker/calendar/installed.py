"""The calendar this process counts with: made once at start from `HOLIDAYS_FILE` (`install`,
called by the app's lifespan and the commands that set deadlines), read by the code that sets
them (`current`). Like the log level, it is configuration of the process, not of a call: every
deadline a process sets must come from the same calendar, so it is not threaded through each
service. Until something is installed, `current` is the packaged calendar alone.

A new year's notice takes effect when the processes restart with the file that holds it
(docs/OPERATIONS.md, *Add a year to the calendar*).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from broker.calendar.days import WorkingCalendar
from broker.calendar.holidays_file import load_holidays_file

_installed: list[WorkingCalendar] = []


def calendar_from(holidays_file: Path | None) -> WorkingCalendar:
    """The packaged calendar plus the file's years; HolidaysFileError names a bad entry."""
    if holidays_file is None:
        return _packaged()
    return WorkingCalendar.packaged(load_holidays_file(holidays_file))


def install(calendar: WorkingCalendar) -> Callable[[], None]:
    """Count with `calendar` from now on; returns what puts the previous one back (an app's
    lifespan ends with it, so apps started one after another in a process do not leak)."""
    previous = list(_installed)
    _installed[:] = [calendar]

    def restore() -> None:
        _installed[:] = previous

    return restore


def current() -> WorkingCalendar:
    return _installed[0] if _installed else _packaged()


@functools.cache
def _packaged() -> WorkingCalendar:
    return WorkingCalendar.packaged()
