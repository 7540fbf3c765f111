"""The outbox's gauges (`cdo.outbox.backlog`, `cdo.outbox.oldest_age`), sampled in every broker
process. Each replica samples the same table, so each reports the same figure: alerts take the
maximum."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.kit.metrics import gauges
from broker.outbox.service import backlog

logger = logging.getLogger(__name__)


async def watch_backlog(
    sessionmaker: async_sessionmaker[AsyncSession], *, interval_s: float, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            async with sessionmaker() as session:
                gauges.outbox_backlog, gauges.outbox_oldest_age_s = await backlog(session)
        except Exception as exc:  # the database away: no figure rather than a stale one
            logger.warning("outbox backlog sample failed: %r", exc)
            gauges.outbox_backlog = gauges.outbox_oldest_age_s = None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
