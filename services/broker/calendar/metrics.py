"""The calendar's gauge, `cdo_calendar_last_known_year`: the latest year whose holidays the
calendar the broker counts with knows (package or HOLIDAYS_FILE), so an alert can ask for next
year's notice before a deadline needs it. Registered by the broker's app only: the notifier sets
no deadlines, and its packaged calendar would report a year the brokers may have outgrown."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Observation

from broker.calendar.installed import current
from core.metrics import meter


@functools.cache
def watch_calendar() -> None:
    """Once per process: the gauge reads whatever calendar is installed when it is scraped."""
    meter().create_observable_gauge(
        "cdo.calendar.last_known_year",
        [_last_known_year],
        description="the latest year whose holidays the calendar knows (package or file)",
    )


def _last_known_year(_: CallbackOptions) -> Iterable[Observation]:
    if (year := current().last_known_year) is not None:
        yield Observation(year)
