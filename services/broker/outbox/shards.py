"""Which shards a relay publishes: one relay at a time per shard, each its fair share.

On PostgreSQL a relay owns shards through session advisory locks `(namespace, shard)` held by
the connection it also reads and marks with (`repository`): if that connection dies, so do its
locks, and the relay finds out before its next batch. Every relay holds `(namespace, MEMBERS)`
shared too, so each can count the relays and take its fair share, ceil(SHARDS / relays): it
releases extras and takes free shards (a stopped or killed relay's) every `claim_interval`.

SQLite has no advisory locks, and serves one process (a quick local run): its one relay owns
every shard (`SoleOwner`). That is the only thing the relay decides differently there (its
repository runs the mark-and-read as two statements).
"""

from __future__ import annotations

import logging
import random
import time
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from broker.outbox import repository
from core.models.outbox import SHARDS

log = logging.getLogger(__name__)

MEMBERS = 65536  # the advisory lock's second key that every running relay holds shared


class ShardOwnership(Protocol):
    @property
    def owned(self) -> frozenset[int]: ...

    async def join(self, connection: AsyncConnection) -> None:
        """A new connection: become one of the relays (owning nothing yet)."""

    async def keep(self, connection: AsyncConnection) -> None:
        """Between batches: take this relay's share, if it is time to look again."""

    def rest(self, pause: float) -> float:
        """How long an idle relay may rest, at most `pause`."""

    async def leave(self, connection: AsyncConnection) -> None:
        """Release every shard on a connection that stays open (a graceful stop)."""

    def forget(self) -> list[int]:
        """The connection is gone (or going): own nothing; answers the shards whose locks go."""


def fair_share(relays: int) -> int:
    """ceil(SHARDS / relays): with any number of relays, every shard has room for an owner."""
    return -(-SHARDS // max(1, relays))


class AdvisoryShards:
    """Shards owned through PostgreSQL session advisory locks (see the module)."""

    def __init__(self, *, claim_interval: float) -> None:
        self._claim_interval = claim_interval
        self._namespace = 0  # first advisory lock key: the outbox table's oid as int4
        self._owned: set[int] = set()
        self._next_claim = 0.0

    @property
    def owned(self) -> frozenset[int]:
        return frozenset(self._owned)

    async def join(self, connection: AsyncConnection) -> None:
        self._namespace = await repository.lock_namespace(connection)
        await repository.lock_shared(connection, self._namespace, MEMBERS)
        self._next_claim = 0.0  # claim at once

    async def keep(self, connection: AsyncConnection) -> None:
        if time.monotonic() >= self._next_claim:
            await self._claim(connection)
            self._next_claim = time.monotonic() + self._claim_interval

    def rest(self, pause: float) -> float:
        # Claim on time even with a long poll interval.
        return max(0.0, min(pause, self._next_claim - time.monotonic()))

    async def leave(self, connection: AsyncConnection) -> None:
        await repository.unlock_all(connection)

    def forget(self) -> list[int]:
        released = sorted(self._owned)
        self._owned.clear()
        return released

    async def _claim(self, connection: AsyncConnection) -> None:
        """Take this relay's fair share of the shards: release extras, try free ones."""
        relays = await repository.shared_holders(connection, self._namespace, MEMBERS)
        share = fair_share(relays)
        before = set(self._owned)
        for shard in sorted(self._owned)[share:]:
            await repository.unlock(connection, self._namespace, shard)
            self._owned.discard(shard)
        start = random.randrange(SHARDS)  # relays starting together try different shards first
        for shard in ((start + i) % SHARDS for i in range(SHARDS)):
            if len(self._owned) >= share:
                break
            if shard not in self._owned and await repository.try_lock(
                connection, self._namespace, shard
            ):
                self._owned.add(shard)
        if self._owned != before:
            log.info("outbox relay (1 of %d) owns shards %s", relays, sorted(self._owned))


class SoleOwner:
    """The one relay of a database without advisory locks (SQLite): it owns every shard."""

    def __init__(self) -> None:
        self._owned: frozenset[int] = frozenset()

    @property
    def owned(self) -> frozenset[int]:
        return self._owned

    async def join(self, connection: AsyncConnection) -> None:
        self._owned = frozenset(range(SHARDS))

    async def keep(self, connection: AsyncConnection) -> None:
        return None

    def rest(self, pause: float) -> float:
        return pause

    async def leave(self, connection: AsyncConnection) -> None:
        return None

    def forget(self) -> list[int]:
        self._owned = frozenset()
        return []  # nothing was locked


def ownership_for(dialect: str, *, claim_interval: float) -> ShardOwnership:
    if dialect == "postgresql":
        return AdvisoryShards(claim_interval=claim_interval)
    return SoleOwner()
