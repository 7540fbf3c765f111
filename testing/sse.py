"""Reading a server-sent event stream in tests, with a deadline on every wait."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from cdo_broker_client.guard.sse import SSEDecoder


@dataclass(frozen=True)
class Event:
    event: str
    id: str | None
    data: dict[str, Any]


class Listener:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self._decoder = SSEDecoder()
        self.seen: list[Event] = []

    async def next(self, *, limit_s: float = 5.0) -> Event:
        async with asyncio.timeout(limit_s):
            async for line in self._lines:
                event = self._decoder.decode(line)
                if event is not None:
                    parsed = Event(event.event, event.id, json.loads(event.data))
                    self.seen.append(parsed)
                    return parsed
        raise EOFError("the stream ended")

    async def until(self, wanted: Callable[[Event], bool], *, limit_s: float = 5.0) -> Event:
        """Read events until one is `wanted` (all are kept in `seen`)."""
        async with asyncio.timeout(limit_s):
            while not wanted(event := await self.next(limit_s=limit_s)):
                pass
        return event

    async def rest(self, *, limit_s: float = 5.0) -> list[Event]:
        """Every event until the stream ends (`follow=false`)."""
        events = []
        try:
            while True:
                events.append(await self.next(limit_s=limit_s))
        except EOFError:
            return events


@asynccontextmanager
async def following(
    url: str, token: str, *, last_event_id: str | None = None, **params: str
) -> AsyncIterator[Listener]:
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=30.0)) as http,
        http.stream("GET", f"{url}/v1/grants/changes", headers=headers, params=params) as response,
    ):
        yield Listener(response)


def position(event_id: str | None) -> tuple[int, int]:
    assert event_id is not None
    tx, seq = event_id.split("-")
    return int(tx), int(seq)
