"""Uses of each grant, counted in memory and sent to the broker in batches
(`POST /v1/grants/uses`), so its `use_count` and `last_used_at` stay true without a call per
request. A batch the broker could not take is kept and sent again with the next one."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cdo_broker_client.errors import (
    BrokerError,
    RateLimited,
    ServerError,
    TransportError,
    Unavailable,
)

if TYPE_CHECKING:
    from cdo_broker_client.client import BrokerClient

logger = logging.getLogger(__name__)
BATCH = 500  # the broker takes at most this many grants per report


class UseReporter:
    def __init__(self, client: BrokerClient, *, every_s: float = 10.0) -> None:
        self._client = client
        self._every_s = every_s
        self._counts: Counter[str] = Counter()
        self._last: dict[str, float] = {}
        self.reported = 0  # uses the broker has counted

    def count(self, grant_id: str) -> None:
        self._counts[grant_id] += 1
        self._last[grant_id] = time.time()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with asyncio.timeout(self._every_s):
                    await stop.wait()
            except TimeoutError:
                pass
            await self.flush()

    async def flush(self) -> None:
        counts, last = self._counts, self._last
        self._counts, self._last = Counter(), {}
        grants = sorted(counts)
        for start in range(0, len(grants), BATCH):
            batch = grants[start : start + BATCH]
            uses = [
                {
                    "grant_id": g,
                    "count": counts[g],
                    "last_used_at": datetime.fromtimestamp(last[g], UTC).isoformat(),
                }
                for g in batch
            ]
            try:
                await self._client.call("POST", "/v1/grants/uses", json={"uses": uses})
                self.reported += sum(counts[g] for g in batch)
            except (TransportError, RateLimited, ServerError, Unavailable) as exc:
                logger.warning("grant uses not reported yet (%s): kept for the next report", exc)
                for g in batch:
                    self._counts[g] += counts[g]
                    self._last[g] = max(last[g], self._last.get(g, 0.0))
            except BrokerError as exc:  # a refusal a retry will not change (e.g. a scope)
                logger.error("grant uses refused by the broker, dropped: %s", exc)
