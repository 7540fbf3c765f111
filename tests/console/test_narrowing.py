"""What a decision form narrows: the fields left ticked and the last day typed, as the decision's
`fields` and `period` (None: kept as offered)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from broker.console.dates import end_of_day
from broker.console.narrowing import narrowing
from broker.requests.filing.schemas import PeriodIn
from broker.requests.lifecycle import Grantable

# 2026-01-01 to 2026-03-31 as days typed in China Standard Time
OFFERED = Grantable(
    ("id_number", "name"),
    datetime(2025, 12, 31, 16, tzinfo=UTC),
    datetime(2026, 3, 31, 16, tzinfo=UTC),
)


def test_what_the_form_keeps_is_none() -> None:
    assert narrowing(["name", "id_number"], date(2026, 3, 31), OFFERED) == (None, None)
    assert narrowing(["id_number", "name"], None, OFFERED) == (None, None)


def test_unticked_fields_and_an_earlier_last_day_narrow() -> None:
    fields, period = narrowing(["id_number"], date(2026, 2, 28), OFFERED)

    assert fields == ["id_number"]
    assert period == PeriodIn(start=OFFERED.start, end=end_of_day(date(2026, 2, 28)))


def test_no_box_ticked_is_an_empty_list_for_the_rules_to_refuse() -> None:
    assert narrowing(None, None, OFFERED) == ([], None)
