"""`cdo-broker seed-history`: requests over years with the rows the real paths write; the
audit rows it writes verify with the rows the broker writes after them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit.actor import SYSTEM
from broker.audit.service import record
from broker.audit.verification import verify
from broker.seed.history.load import seed_history
from broker.seed.province import Size
from broker.seed.province_load import seed_province
from core.models.catalog import Dataset
from core.models.grants import Grant
from core.models.outbox import OutboxEvent
from core.models.requests import DataRequest, Decision, Escalation, RequestStep

pytestmark = pytest.mark.integration
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)


async def test_a_small_history_has_every_outcome_and_its_audit_log_verifies(
    province_sessions: async_sessionmaker[AsyncSession],
) -> None:
    size = Size(cities=2, counties_per_city=2, towns_per_county=2, departments=4)
    async with province_sessions() as session:
        await seed_province(session, seed=11, as_of=date(2026, 12, 1), size=size)
        await session.commit()
    async with province_sessions() as session:
        counts = await seed_history(session, requests=600, years=3, seed=1, until=UNTIL)
        await session.commit()
    assert counts["approved"] > counts["rejected"] > 0
    assert counts["rows.requests"] == sum(
        counts.get(s, 0) for s in ("approved", "rejected", "vetoed", "cancelled", "pending")
    )
    async with province_sessions() as session:
        kinds = dict(
            (
                await session.execute(
                    select(DataRequest.kind, func.count()).group_by(DataRequest.kind)
                )
            ).all()
        )
        assert kinds["share"] > kinds["return"] > 0
        assert kinds["demand"] > 0
        assert kinds["it_project"] > 0
        # A share or a return approved has its grant; an approved demand its draft entry, on
        # which its grant waits; an IT project grants nothing.
        approved = select(func.count(DataRequest.id)).where(DataRequest.status == "approved")
        granted = await session.scalar(approved.where(DataRequest.kind.in_(("share", "return"))))
        assert granted == await session.scalar(select(func.count(Grant.id)))
        drafts = select(func.count(Dataset.id)).where(Dataset.status == "draft")
        assert await session.scalar(drafts) == await session.scalar(
            approved.where(DataRequest.kind == "demand")
        )
        # Graded data was asked for; every approval granting personal fields says why.
        graded = (
            select(func.count(DataRequest.id))
            .join(Dataset, Dataset.id == DataRequest.dataset_id)
            .where(Dataset.grade != "general")
        )
        assert await session.scalar(graded) > 0
        for decision, dataset, fields in await session.execute(
            select(Decision, Dataset, DataRequest.granted_fields)
            .join(DataRequest, DataRequest.id == Decision.request_id)
            .join(Dataset, Dataset.id == DataRequest.dataset_id)
            .where(Decision.decision == "approve")
        ):
            if dataset.personal_fields(fields):
                assert decision.comment
        assert await session.scalar(select(func.count(Escalation.id))) > 0
        assert await session.scalar(select(func.min(DataRequest.created_at))) >= datetime(
            2023, 11, 1, tzinfo=UTC
        )
        # Every decision belongs to a step of its request; every event was published.
        orphan = await session.scalar(
            select(func.count(Decision.id))
            .outerjoin(RequestStep, RequestStep.id == Decision.step_id)
            .where(RequestStep.request_id != Decision.request_id)
        )
        assert orphan == 0
        unsent = select(func.count(OutboxEvent.id)).where(OutboxEvent.sent_at.is_(None))
        assert await session.scalar(unsent) == 0

        await record(session, "history.checked", actor=SYSTEM, subject="req_any")
        await session.commit()
        verdict = await verify(session)
        assert verdict.ok, verdict.reason
        assert verdict.rows >= counts["rows.audit_log"] + 1
