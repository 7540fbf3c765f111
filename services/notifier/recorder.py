"""Writes delivery outcomes in batches: whatever finished while the last batch was being written
goes in the next one, in one statement on the recorder's own connection.

Under load that is one round trip for many deliveries instead of a transaction for each (and no
connection per delivery); alone, an outcome is written at once. Each delivery waits until its
outcome is durable, so its endpoint slot stays taken until then. If the database is away, the
outcomes wait and are written when it returns; a notifier that dies first leaves leased rows,
which fall due again (at least once, same webhook-id).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.autocommit import AutocommitConnection
from notifier.repository import Settled, settle

logger = logging.getLogger(__name__)
BATCH = 500
MAX_BACKOFF_S = 5.0
STOP_ATTEMPTS = 3  # at shutdown, with the database away: leases bring the deliveries back


@dataclass(frozen=True)
class _Waiting:
    outcome: Settled
    written: asyncio.Future[None]


class Recorder:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._database = AutocommitConnection(sessionmaker)
        self._queue: list[_Waiting] = []
        self._ready = asyncio.Event()
        self._stopping = False

    async def record(self, outcome: Settled) -> None:
        """Returns once `outcome` is written."""
        written = asyncio.get_running_loop().create_future()
        self._queue.append(_Waiting(outcome, written))
        self._ready.set()
        await written

    def stop(self) -> None:
        """`run` writes what is queued, then returns."""
        self._stopping = True
        self._ready.set()

    async def run(self) -> None:
        failures = 0
        try:
            while self._queue or not self._stopping:
                if not self._queue:
                    self._ready.clear()
                    await self._ready.wait()
                    continue
                batch = self._queue[:BATCH]
                try:
                    await settle(self._database, [w.outcome for w in batch])
                except Exception as exc:
                    failures += 1
                    logger.warning("recording %d outcomes failed (%r); retrying", len(batch), exc)
                    if self._stopping and failures >= STOP_ATTEMPTS:
                        self._give_up(exc)
                        return
                    await asyncio.sleep(min(MAX_BACKOFF_S, 0.1 * 2**failures))
                    continue
                failures = 0
                del self._queue[: len(batch)]
                for waiting in batch:
                    if not waiting.written.done():
                        waiting.written.set_result(None)
        finally:
            await self._database.close()

    def _give_up(self, exc: Exception) -> None:
        for waiting in self._queue:
            if not waiting.written.done():
                waiting.written.set_exception(exc)
        self._queue.clear()
