"""The SLA job and a decision on the same request never lock in opposite orders.

A decision locks its request's row, then touches the step (the decision's foreign key, the step's
status). The SLA job used to lock overdue steps alone and then reach for the request (the
escalation's foreign key): the two deadlocked under load (found by bench/chaos). The job now
takes a step only together with its request's lock, and skips a request being decided.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.kit.clock import utcnow
from broker.requests import repository
from broker.requests.models import DataRequest, RequestStep
from tests.broker.requests.conftest import Headers, file, request_body

pytestmark = pytest.mark.integration


async def test_the_sla_job_skips_a_step_whose_request_is_being_decided(
    client: httpx.AsyncClient,
    as_org: Headers,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    filed = await file(
        client, await as_org("gz-rsj"), request_body("gz-gaj-household-migration", ["id_number"])
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    now = utcnow()
    async with sessionmaker() as session:
        await session.execute(
            update(RequestStep)
            .where(RequestStep.request_id == request_id)
            .values(due_at=now - timedelta(minutes=1))
        )
        await session.commit()

    async def overdue_ids(session: AsyncSession) -> set[str]:
        return {s.request_id for s in await repository.overdue_steps(session, now, 1000)}

    async with sessionmaker() as sla:
        assert request_id in await overdue_ids(sla)
        await sla.rollback()

    async with sessionmaker() as deciding, sessionmaker() as sla:
        assert await repository.lock_request(deciding, request_id) is not None
        # Returns at once (SKIP LOCKED) without the step: no waiting on the decision's lock.
        assert request_id not in await overdue_ids(sla)
        await sla.rollback()
        await deciding.rollback()

    async with sessionmaker() as sla, sessionmaker() as deciding:
        assert request_id in await overdue_ids(sla)
        # ... and while the SLA job holds the step, a decision waits for the request's row
        # (where it waits for nothing else): NOWAIT shows the row is taken.
        with pytest.raises(DBAPIError, match="could not obtain lock"):
            await deciding.execute(
                select(DataRequest).where(DataRequest.id == request_id).with_for_update(nowait=True)
            )
        await deciding.rollback()
        await sla.rollback()
