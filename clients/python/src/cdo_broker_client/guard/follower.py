"""Following the broker's feed of grant changes (`GET /v1/grants/changes`, server-sent events).

One connection, kept open; on any break it reconnects with `Last-Event-ID` and resumes where it
was, so no change is missed. It opens (and, after a restart, reopens) with a snapshot of the
grants not in force, taken whole at `ready`. Each event or heartbeat is word from the broker:
`fresh()` is false once none came for `stale_after_s`, and the guard then refuses with 503
rather than serve a grant it cannot know is still standing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from cdo_broker_client.errors import BrokerError, Unauthorized, error_from
from cdo_broker_client.guard.sse import ServerSentEvent, SSEDecoder
from cdo_broker_client.guard.states import GrantStates

if TYPE_CHECKING:
    from cdo_broker_client.client import BrokerClient

logger = logging.getLogger(__name__)


class FeedFollower:
    def __init__(
        self,
        client: BrokerClient,
        states: GrantStates,
        *,
        stale_after_s: float = 45.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.states = states
        self._stale_after_s = stale_after_s
        self._clock = clock
        self.last_event_id: str | None = None
        self.last_heard = -math.inf
        self.ready = asyncio.Event()  # set at the first `ready`: the state is known
        self.changes_seen = 0
        self._snapshot: GrantStates | None = None
        self.changed = asyncio.Condition()  # notified at every change applied (tests, benches)

    def fresh(self) -> bool:
        return self.ready.is_set() and self._clock() - self.last_heard < self._stale_after_s

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                await self._follow(stop)
                failures = 0  # the broker ended the stream (the token expired): reconnect
            except (httpx.HTTPError, BrokerError, ValueError) as exc:
                failures += 1
                delay = min(5.0, 0.2 * 2**failures) * random.uniform(0.5, 1.0)
                logger.warning("grant feed interrupted (%s); reconnecting in %.1fs", exc, delay)
                try:
                    async with asyncio.timeout(delay):
                        await stop.wait()
                except TimeoutError:
                    pass

    async def _follow(self, stop: asyncio.Event) -> None:
        token = await self._client.tokens.get("")
        headers = {"Authorization": f"Bearer {token.access_token}", "Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        self._snapshot = None
        url = f"{self._client.base_url}/v1/grants/changes"
        timeout = httpx.Timeout(10.0, read=self._stale_after_s)
        async with self._client.http.stream("GET", url, headers=headers, timeout=timeout) as answer:
            if answer.status_code != 200:
                await answer.aread()
                error = error_from(answer)
                if isinstance(error, Unauthorized):
                    self._client.tokens.forget(token)
                raise error
            decoder = SSEDecoder()
            decoder.last_event_id = self.last_event_id
            async for line in answer.aiter_lines():
                event = decoder.decode(line)
                if event is not None:
                    await self._on(event)
                if stop.is_set():
                    return

    async def _on(self, event: ServerSentEvent) -> None:
        self.last_heard = self._clock()
        data = json.loads(event.data)
        if event.event == "grant.state":
            self._snapshot = self._snapshot or GrantStates()
            self._snapshot.apply(data)
        elif event.event == "ready":
            if data.get("snapshot"):  # the whole standing, not changes: replaces what we knew
                self.states.replace(self._snapshot or GrantStates())
            self._snapshot = None
            self.ready.set()
        elif event.event.startswith("grant."):
            self.states.apply(data)
            self.changes_seen += 1
            async with self.changed:
                self.changed.notify_all()
        self.last_event_id = event.id
        self.states.forget_ended(time.time())
