"""When to try a webhook again: the retry schedule, its jitter and the receiver's `Retry-After`.

The schedule lists the delays before the 2nd, 3rd, … attempt; when it is used up the event goes to
the dead-letter topic. Each delay is spread by ±20 % so that the deliveries that failed together
while an endpoint was down do not all come back in the same second when it recovers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime

DEFAULT_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.2  # each delay is drawn uniformly from [0.8, 1.2] times the delay


def parse_schedule(value: str | None) -> tuple[float, ...]:
    """`WEBHOOK_RETRY_SCHEDULE`: comma-separated positive seconds; unset or blank → the default."""
    if value is None or not value.strip():
        return DEFAULT_SCHEDULE
    delays: list[float] = []
    for part in value.split(","):
        try:
            delay = float(part)
        except ValueError:
            raise ValueError(
                f"WEBHOOK_RETRY_SCHEDULE: {part.strip()!r} is not a number of seconds"
            ) from None
        if not delay > 0 or delay == float("inf"):  # `not >` also refuses NaN
            raise ValueError(f"WEBHOOK_RETRY_SCHEDULE: {part.strip()!r} is not a positive delay")
        delays.append(delay)
    return tuple(delays)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait per a `Retry-After` header (delta-seconds or HTTP-date), None if unusable.

    `now` must be timezone-aware; a date in the past means "now" (0 s).
    """
    if value is None or not (text := value.strip()):
        return None
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; `-0000` parses as naive
        when = when.replace(tzinfo=now.tzinfo)
    return max(0.0, (when - now).total_seconds())


def next_delay(
    attempt: int,
    schedule: Sequence[float],
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds before the attempt after `attempt` (1 = the first try), None when retries are spent.

    A receiver's `Retry-After` can lengthen the wait but never shorten it, and is capped at the
    schedule's longest step so that a wrong or hostile header cannot park an event indefinitely.
    """
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    if attempt > len(schedule):
        return None
    draw = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    delay = schedule[attempt - 1] * draw
    if retry_after is not None:
        delay = max(delay, min(retry_after, max(schedule)))
    return delay
