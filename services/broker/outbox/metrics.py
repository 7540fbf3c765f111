"""The outbox's gauges (`cdo.outbox.backlog`, `cdo.outbox.oldest_age`), sampled in every broker
process. Each replica samples the same table, so each reports the same figure: alerts take the
maximum."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.outbox.repository import backlog
from core.metrics import gauges
from core.supervisor import Backoff, Supervisor


async def watch_backlog(
    sessionmaker: async_sessionmaker[AsyncSession], *, interval_s: float, stop: asyncio.Event
) -> None:
    async def sample() -> float:
        async with sessionmaker() as session:
            gauges.outbox_backlog, gauges.outbox_oldest_age_s = await backlog(session)
        return interval_s

    async def no_figure(_: Exception) -> None:  # the database away: none rather than a stale one
        gauges.outbox_backlog = gauges.outbox_oldest_age_s = None

    backoff = Backoff(first_s=min(1.0, interval_s), cap_s=interval_s)
    await Supervisor("outbox-backlog", backoff=backoff, on_failure=no_figure).run(sample, stop)
