from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from notifier.schedule import (
    DEFAULT_SCHEDULE,
    JITTER,
    next_delay,
    parse_retry_after,
    parse_schedule,
)

NOW = datetime(2025, 3, 1, 8, 0, 0, tzinfo=UTC)


def test_the_default_schedule_is_the_documented_one() -> None:
    assert parse_schedule(None) == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert parse_schedule("  ") == DEFAULT_SCHEDULE


def test_a_configured_schedule_is_comma_separated_seconds() -> None:
    assert parse_schedule("1, 2.5,60") == (1.0, 2.5, 60.0)


@pytest.mark.parametrize("value", ["5,,10", "5,ten", "5,0", "-1", "nan", "inf"])
def test_a_malformed_schedule_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match="WEBHOOK_RETRY_SCHEDULE"):
        parse_schedule(value)


def test_each_delay_follows_its_step_within_the_jitter() -> None:
    rng = random.Random(4)
    for attempt, step in enumerate(DEFAULT_SCHEDULE, start=1):
        for _ in range(50):
            delay = next_delay(attempt, DEFAULT_SCHEDULE, rng=rng)
            assert delay is not None
            assert step * (1 - JITTER) <= delay <= step * (1 + JITTER)


def test_jitter_spreads_the_delays() -> None:
    rng = random.Random(7)
    delays = {next_delay(1, (100,), rng=rng) for _ in range(20)}
    assert len(delays) == 20


def test_after_the_last_step_there_is_no_retry() -> None:
    assert next_delay(len(DEFAULT_SCHEDULE) + 1, DEFAULT_SCHEDULE) is None
    with pytest.raises(ValueError, match="from 1"):
        next_delay(0, DEFAULT_SCHEDULE)


def test_retry_after_lengthens_but_never_shortens_the_wait() -> None:
    rng = random.Random(1)
    assert next_delay(1, (5, 300), retry_after=120, rng=rng) == 120
    delay = next_delay(2, (5, 300), retry_after=1, rng=rng)
    assert delay is not None
    assert delay >= 300 * (1 - JITTER)


def test_retry_after_is_capped_at_the_longest_step() -> None:
    assert next_delay(1, (5, 300), retry_after=10**9, rng=random.Random(1)) == 300


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after(" 0 ", NOW) == 0


def test_retry_after_as_an_http_date() -> None:
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, NOW) == 90
    earlier = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(earlier, NOW) == 0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "٣"])
def test_an_unusable_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None
