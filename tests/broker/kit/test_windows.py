"""A window's end after its start: one rule, said naming the end field in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broker.kit.validation_errors import Refusal
from broker.kit.windows import require_end_after_start

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("end", [START, START - timedelta(seconds=1)])
def test_an_end_not_after_the_start_is_refused_naming_the_end(end: datetime) -> None:
    with pytest.raises(Refusal) as refused:
        require_end_after_start(START, end, start_field="from", end_field="to")
    assert str(refused.value) == "to: must be after from"
    assert refused.value.zh == "to: 结束时间须晚于开始时间"


@pytest.mark.parametrize("end", [START + timedelta(seconds=1), None])
def test_a_later_or_open_end_passes(end: datetime | None) -> None:
    require_end_after_start(START, end, start_field="from", end_field="to")
