"""The scores a scorecard reads: the same whether the bodies are few (an IN list) or most of the
directory (the period read whole, as for the provincial bureau)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.evaluation.repository import scores_overlapping
from core.ids import new_id
from core.models.evaluation import EvaluationScore

pytestmark = pytest.mark.integration


async def test_many_bodies_find_the_scores_few_find(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: object
) -> None:
    async with sessionmaker() as session:
        for org, score in (("gz-gaj", 80), ("sz-gaj", 70)):
            session.add(
                EvaluationScore(
                    id=new_id("evs"), organisation_id=org, indicator="daily_management",
                    period_start=date(2031, 1, 1), period_end=date(2032, 1, 1), score=score,
                    comment="台账规范", entered_by_org_id="gd-dsb",
                )
            )  # fmt: skip
        await session.flush()
        year = (date(2031, 3, 1), date(2031, 4, 1))
        few = await scores_overlapping(session, {"gz-gaj"}, *year)
        many = await scores_overlapping(
            session, {"gz-gaj", *(f"nobody-{n}" for n in range(600))}, *year
        )
        assert [s.organisation_id for s in few] == ["gz-gaj"]
        assert [s.id for s in many] == [s.id for s in few]  # not sz-gaj's, not another year's
        await session.rollback()
