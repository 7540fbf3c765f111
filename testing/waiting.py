"""Waiting on a condition with a deadline: the only way tests and benches synchronise with the
system (never a sleep standing in for one)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


class TimedOut(AssertionError):
    """The condition did not hold before the deadline (in a test, a failure like any assert)."""


async def wait_until(
    check: Callable[[], bool | Awaitable[bool]],
    *,
    limit_s: float,
    what: str,
    poll_s: float = 0.05,
) -> float:
    """Calls `check` (plain or async) every `poll_s` until it holds; the seconds that took.
    Raises TimedOut after `limit_s`."""
    start = time.monotonic()
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return time.monotonic() - start
        if time.monotonic() - start > limit_s:
            raise TimedOut(f"timed out after {limit_s:g}s waiting for {what}")
        await asyncio.sleep(poll_s)
