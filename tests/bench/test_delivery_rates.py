"""bench/delivery.py's rate: work done between the first piece's moment and the last's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.delivery_floor import per_second


def test_the_rate_counts_the_intervals_between_the_first_and_the_last() -> None:
    assert per_second(11, 100.0, 102.0) == 5.0
    start = datetime(2026, 12, 5, tzinfo=UTC)
    assert per_second(201, start, start + timedelta(seconds=4)) == 50.0


def test_fewer_than_two_or_no_time_gives_no_rate() -> None:
    assert per_second(0, None, None) == 0.0
    assert per_second(1, 100.0, 100.0) == 0.0
    assert per_second(5, 100.0, 100.0) == 0.0
