"""Waiting on a condition with a deadline: the only way tests synchronise with the system."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def wait_until(
    check: Callable[[], bool | Awaitable[bool]],
    *,
    limit_s: float,
    what: str,
    poll_s: float = 0.05,
) -> None:
    deadline = time.monotonic() + limit_s
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit_s}s waiting for {what}")
        await asyncio.sleep(poll_s)
