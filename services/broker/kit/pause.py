"""Waiting for whichever comes first: a timeout or one of several events (a stop, a wake-up)."""

from __future__ import annotations

import asyncio


async def pause(seconds: float, *events: asyncio.Event) -> None:
    """Return after `seconds`, or as soon as any of `events` is set."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
