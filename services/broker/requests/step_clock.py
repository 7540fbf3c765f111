"""A step's SLA clock on the working calendar: when it falls due, how a hold moves that, and how
much working time a decision took.

The arithmetic is broker/calendar's (pure). This module applies it to step rows and says so when
a deadline had to count a year the calendar does not know by weekends only: a warning in the
log, the series `cdo_calendar_unknown_year_total` (by year) and the step's `calendar_note`,
which the route shows. Filing never fails for it. A step whose policy gives `sla_seconds`
(deprecated; drills and tests) keeps elapsed-time deadlines.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from broker.calendar.deadlines import (
    Deadline,
    add_working_time,
    deadline_after,
    working_seconds_between,
    working_time_between,
)
from broker.calendar.installed import current
from core.metrics import instruments
from core.models.requests import RequestStep

logger = logging.getLogger(__name__)


def start_clock(step: RequestStep, now: datetime) -> None:
    """The step's full limit from `now`: when it starts, and for each new approver (an
    escalation or a hand-over gives the new approver the whole limit again)."""
    if step.sla_working_days is None:
        step.due_at = now + timedelta(seconds=step.sla_seconds)
        return
    _due(step, deadline_after(current(), now, step.sla_working_days))


def resume_clock(step: RequestStep, now: datetime) -> int:
    """A hold ends: the working time that was left when it began is left again from `now`.
    Returns the elapsed seconds the step was on hold."""
    assert step.on_hold_since is not None
    since = step.on_hold_since
    calendar = current()
    paused = int((now - since).total_seconds())
    step.held_seconds += paused
    step.held_working_seconds += working_seconds_between(calendar, since, now)
    step.on_hold_since = None
    if step.due_at is None:
        return paused
    if step.sla_working_days is None:
        step.due_at += timedelta(seconds=paused)
    else:
        left = working_time_between(calendar, since, step.due_at)
        _due(step, add_working_time(calendar, now, left))
    return paused


def working_clock_seconds(step: RequestStep, now: datetime) -> int:
    """Working time the step's clock has run by `now`: office time since it started, holds
    excluded (the one still open too)."""
    assert step.started_at is not None
    calendar = current()
    held = step.held_working_seconds
    if step.on_hold_since is not None:
        held += working_seconds_between(calendar, step.on_hold_since, now)
    return max(0, working_seconds_between(calendar, step.started_at, now) - held)


def _due(step: RequestStep, deadline: Deadline) -> None:
    step.due_at = deadline.at
    step.calendar_note = note(deadline.assumed_years)
    for year in sorted(deadline.assumed_years):
        instruments().calendar_unknown_years.add(1, {"year": str(year)})
    if deadline.assumed_years:
        logger.warning(
            "step %s of request %s: the calendar does not know %s; its deadline %s counts "
            "weekends only (add the year to HOLIDAYS_FILE)",
            step.index,
            step.request_id,
            ", ".join(str(year) for year in sorted(deadline.assumed_years)),
            deadline.at.isoformat(),
        )


def note(assumed_years: frozenset[int]) -> str | None:
    """What the route says about a deadline counted on assumed years, in Chinese first."""
    if not assumed_years:
        return None
    years = sorted(assumed_years)
    chinese = "、".join(f"{year}年" for year in years)
    english = ", ".join(str(year) for year in years)
    return (
        f"{chinese}节假日安排尚未收录（未随程序发布，也未列入 HOLIDAYS_FILE），"
        "办理时限仅扣除周末计算。"
        f" The holidays of {english} are not known to the broker (neither packaged nor in"
        " HOLIDAYS_FILE): the deadline counts weekends only."
    )
