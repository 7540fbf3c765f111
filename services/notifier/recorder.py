"""Writes delivery outcomes in batches: whatever finished while the last batch was being written,
or within `LINGER_S` of the first outcome of a batch, goes in one statement on the recorder's own
connection.

Under load that is one round trip for many deliveries instead of a transaction for each (and no
connection per delivery). An outcome waits at most `LINGER_S` for others to share its statement:
at 100 webhooks/s, POSTs finish one every few milliseconds, and a statement each cost a round trip
and a turn of this loop per webhook. The webhook has arrived by then; its row's update waits, and
so does its endpoint's slot: each delivery waits until its outcome is durable (at the default
limit of 4 in flight, one endpoint's webhooks go out at most 4 per LINGER_S plus a round trip). If
the database is away, the outcomes wait and are written when it returns; a notifier that dies
first leaves leased rows, which fall due again (at least once, same webhook-id).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.supervisor import Backoff, Supervisor
from notifier.repository.autocommit import AutocommitConnection
from notifier.repository.outcomes import Settled, settle

BATCH = 500
LINGER_S = 0.02  # how long the first outcome of a batch waits for others to join it
MAX_BACKOFF_S = 5.0
STOP_ATTEMPTS = 3  # at shutdown, with the database away: leases bring the deliveries back


@dataclass(frozen=True)
class _Waiting:
    outcome: Settled
    written: asyncio.Future[None]
    queued_at: float  # the loop's clock


class Recorder:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._database = AutocommitConnection(sessionmaker)
        self._queue: list[_Waiting] = []
        self._ready = asyncio.Event()
        self._stopping = False
        self._done = asyncio.Event()  # stopping, and nothing left to write (or given up)
        self._failures = 0
        self.supervisor = Supervisor(
            "delivery-recorder", backoff=Backoff(first_s=0.2, cap_s=MAX_BACKOFF_S)
        )

    async def record(self, outcome: Settled) -> None:
        """Returns once `outcome` is written."""
        loop = asyncio.get_running_loop()
        written = loop.create_future()
        self._queue.append(_Waiting(outcome, written, loop.time()))
        if len(self._queue) == 1 or len(self._queue) >= BATCH:  # else `run` is waiting already
            self._ready.set()
        await written

    def stop(self) -> None:
        """`run` writes what is queued, then returns."""
        self._stopping = True
        self._ready.set()

    async def run(self) -> None:
        try:
            await self.supervisor.run(self._write, self._done, wake=self._ready)
        finally:
            await self._database.close()

    async def _write(self) -> float:
        """One turn: write a batch of what is queued; with nothing queued, rest until more is."""
        if not self._queue:
            if self._stopping:
                self._done.set()
            return math.inf
        if not self._stopping and len(self._queue) < BATCH:
            linger = self._queue[0].queued_at + LINGER_S - asyncio.get_running_loop().time()
            if linger > 0:
                return linger
        batch = self._queue[:BATCH]
        try:
            await settle(self._database, [w.outcome for w in batch])
        except Exception as exc:
            self._failures += 1
            if self._stopping and self._failures >= STOP_ATTEMPTS:
                self._give_up(exc)
            raise
        self._failures = 0
        del self._queue[: len(batch)]
        for waiting in batch:
            if not waiting.written.done():
                waiting.written.set_result(None)
        return 0.0

    def _give_up(self, exc: Exception) -> None:
        for waiting in self._queue:
            if not waiting.written.done():
                waiting.written.set_exception(exc)
        self._queue.clear()
        self._done.set()
