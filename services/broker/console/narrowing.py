"""What a decision form narrows (a step's approval, an appeal's overturn): the fields left ticked
and the last day typed, against what the decision would otherwise grant. Pure; `TickedDep` is
how both forms declare the two inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Form

from broker.console.dates import end_of_day, last_day
from broker.requests.filing.schemas import PeriodIn
from broker.requests.lifecycle import Grantable


@dataclass(frozen=True)
class Ticked:
    """A decision form's narrowing as posted: the fields left ticked (None: no box ticked, as a
    form posts it), the last day typed (None: none)."""

    fields: list[str] | None
    end: date | None


def ticked(
    fields: Annotated[list[str] | None, Form()] = None,
    end: Annotated[date | None, Form()] = None,
) -> Ticked:
    return Ticked(fields, end)


TickedDep = Annotated[Ticked, Depends(ticked)]


def narrowing(
    ticked: list[str] | None, last: date | None, offered: Grantable
) -> tuple[list[str] | None, PeriodIn | None]:
    """The decision's `fields` and `period`: None where the form keeps what is offered. No box
    ticked is `[]` (which the rules refuse, in words); a last day other than the offered one is
    a period from the offered start to the end of that day."""
    fields = None
    if ticked is None:
        fields = []
    elif sorted(ticked) != sorted(offered.fields):
        fields = ticked
    period = None
    if last is not None and last != last_day(offered.end):
        period = PeriodIn(start=offered.start, end=end_of_day(last))
    return fields, period
