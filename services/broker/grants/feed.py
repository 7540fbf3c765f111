"""One reader of `grant_changes` per broker process, shared by every listener of the feed.

Listeners (`GET /v1/grants/changes`) hold no database connection: this process reads new rows
once per `GRANT_FEED_POLL_INTERVAL` (at once after a commit of its own that changed a grant),
keeps the newest ones in memory and wakes the listeners, each of which takes its provider's
changes from there. A listener further behind than the memory reaches (a resume from an old
`Last-Event-ID`) reads its own provider's rows from the table, a page at a time, until it is.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import weakref
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from broker.grants import repository
from broker.grants.repository import ORIGIN, Change, Position
from core.supervisor import Supervisor

READ_PAGE = 1000  # rows per read of the table
CATCH_UP_PAGE = 500  # rows per read of one provider's older changes
_CHANGED = "broker.grants.changed"  # session.info flag: this transaction changed a grant
_feeds: weakref.WeakSet[GrantFeed] = weakref.WeakSet()


def changed(session: AsyncSession) -> None:
    """Mark the session's transaction: when it commits, this process's feed reads at once."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
    session.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        for feed in list(_feeds):
            feed.wake()


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


class GrantFeed:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, poll_s: float, keep: int = 10_000
    ) -> None:
        self._sessionmaker = sessionmaker
        self._poll_s = poll_s
        self._keep = keep
        self.position: Position = ORIGIN  # every change up to here has been read
        self._floor: Position = ORIGIN  # every change after this is in _recent
        self._recent: list[Change] = []
        self._positions: list[Position] = []
        self._advanced = asyncio.Condition()
        self._wake = asyncio.Event()
        self._reading = asyncio.Lock()  # the loop and listeners that connect both read
        self.started = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Read until `stop`, under the supervisor: while the database is away, listeners wait
        and nothing is skipped (the next read starts where the last one ended)."""

        async def turn() -> float:
            if not self.started.is_set():
                await self._start()
            await self.read()
            return self._poll_s

        _feeds.add(self)
        try:
            await Supervisor("grant-feed").run(turn, stop, wake=self._wake)
        finally:
            _feeds.discard(self)

    async def _start(self) -> None:
        async with self._sessionmaker() as session:
            self.position = self._floor = await repository.last_position(session)
        self.started.set()

    async def read(self) -> None:
        """Take every change committed since the last read, and wake the listeners."""
        async with self._reading:
            await self._read()

    async def _read(self) -> None:
        while True:
            async with self._sessionmaker() as session:
                rows = await repository.changes_after(session, self.position, limit=READ_PAGE)
            if not rows:
                return
            self._recent.extend(rows)
            self._positions.extend(row.position for row in rows)
            if len(self._recent) > self._keep:
                dropped = len(self._recent) - self._keep
                self._floor = self._positions[dropped - 1]
                del self._recent[:dropped], self._positions[:dropped]
            async with self._advanced:
                self.position = rows[-1].position
                self._advanced.notify_all()
            if len(rows) < READ_PAGE:
                return

    async def standing(self, provider_id: str, *, now: datetime) -> tuple[list[Change], Position]:
        """The provider's grants not in force as of the feed's position, and that position."""
        upto = self.position
        async with self._sessionmaker() as session:
            return list(await repository.standing(session, provider_id, upto, now=now)), upto

    async def next_for(
        self, provider_id: str, after: Position, *, wait_s: float
    ) -> tuple[Sequence[Change], Position]:
        """The provider's changes after `after` (waiting up to `wait_s` for some to be read),
        and the position the caller has then seen everything up to."""
        floor = self._floor
        if after < floor:
            async with self._sessionmaker() as session:
                rows = await repository.provider_changes_between(
                    session, provider_id, after, floor, limit=CATCH_UP_PAGE
                )
            return rows, rows[-1].position if len(rows) == CATCH_UP_PAGE else floor
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s), self._advanced:
                await self._advanced.wait_for(lambda: self.position > after)
        if after < self._floor:  # the memory moved on while we waited: read from the table
            return [], after
        start = bisect.bisect_right(self._positions, after)
        mine = [c for c in self._recent[start:] if c.provider_id == provider_id]
        return mine, max(after, self.position)
