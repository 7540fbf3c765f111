"""Whom the report's rows name: the same bodies whether a few are asked for (an IN list) or
most of the directory (the table read whole)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.reports.repository.roster import organisations

pytestmark = pytest.mark.integration


async def test_many_bodies_are_read_as_few_are(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: object
) -> None:
    async with sessionmaker() as session:
        few = await organisations(session, {"gz-gaj", "gd-dsb"})
        many = await organisations(
            session, {"gz-gaj", "gd-dsb", *(f"nobody-{n}" for n in range(600))}
        )
    assert many == few
    assert (few["gz-gaj"].level, few["gd-dsb"].level) == ("city", "province")
