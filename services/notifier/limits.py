"""Per-endpoint bounded concurrency, so that a slow endpoint delays only its own deliveries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass
class _Gate:
    semaphore: asyncio.Semaphore
    users: int = 0  # holding or waiting; the gate is dropped when this returns to 0
    holding: int = 0


class EndpointLimiter:
    """At most `limit` deliveries in flight per endpoint id; other endpoints are unaffected.

    Gates exist only while an endpoint has deliveries in flight or waiting, so the map stays as
    small as the set of endpoints currently being delivered to.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the per-endpoint limit must be at least 1")
        self.limit = limit
        self._gates: dict[str, _Gate] = {}

    @asynccontextmanager
    async def slot(self, endpoint_id: str) -> AsyncIterator[None]:
        gate = self._gates.get(endpoint_id)
        if gate is None:
            gate = self._gates[endpoint_id] = _Gate(asyncio.Semaphore(self.limit))
        gate.users += 1
        try:
            async with gate.semaphore:
                gate.holding += 1
                try:
                    yield
                finally:
                    gate.holding -= 1
        finally:
            gate.users -= 1
            if gate.users == 0:
                del self._gates[endpoint_id]

    def in_flight(self, endpoint_id: str) -> int:
        gate = self._gates.get(endpoint_id)
        return 0 if gate is None else gate.holding

    def waiting(self, endpoint_id: str) -> int:
        gate = self._gates.get(endpoint_id)
        return 0 if gate is None else gate.users - gate.holding

    def __len__(self) -> int:
        """How many endpoints have deliveries in flight or waiting."""
        return len(self._gates)
