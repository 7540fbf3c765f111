"""The SLA job and a decision on the same request never lock in opposite orders.

A decision locks its request's row, then touches the step (the decision's foreign key, the step's
status). The SLA job used to lock overdue steps alone and then reach for the request (the
escalation's foreign key): the two deadlocked under load (found by bench/chaos). The job now
takes a step only together with its request's lock, and skips a request being decided.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.requests import sla
from broker.requests.repository import locks, sweeps
from core.clock import utcnow
from core.models.requests import DataRequest, Escalation, RequestStep, StepApprover
from testing.apps import LINKS
from testing.clients import Headers, file
from testing.waiting import wait_until
from testing.workloads import request_body

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
        return {s.request_id for s in await sweeps.overdue_steps(session, now, 1000)}

    async with sessionmaker() as sla:
        assert request_id in await overdue_ids(sla)
        await sla.rollback()

    async with sessionmaker() as deciding, sessionmaker() as sla:
        assert await locks.lock_request(deciding, request_id) is not None
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


async def test_an_sla_pass_commits_each_escalation_before_it_takes_the_next(
    app: FastAPI,
    client: httpx.AsyncClient,
    as_org: Headers,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A pass holds one request at a time: while it waits on the second overdue request, the
    first one's escalation is already committed and its lock is free for a decision."""
    headers = await as_org("gz-rsj")
    body = request_body("gz-gaj-household-migration", ["id_number"])
    first, second = [(await file(client, headers, body)).json()["id"] for _ in range(2)]
    now = utcnow()
    async with sessionmaker() as session:
        for request_id, days in ((first, 30), (second, 29)):  # before any other test's
            await session.execute(
                update(RequestStep)
                .where(RequestStep.request_id == request_id)
                .values(due_at=now - timedelta(days=days))
            )
        await session.commit()

    async def escalations(request_id: str) -> int:
        async with sessionmaker() as session:
            query = select(func.count()).where(Escalation.request_id == request_id)
            return await session.scalar(query.select_from(Escalation)) or 0

    async with sessionmaker() as holder:
        # The second escalation replaces this approver: its UPDATE waits for this lock.
        await holder.execute(
            select(StepApprover).where(StepApprover.request_id == second).with_for_update()
        )
        running = asyncio.create_task(
            sla.run_once(sessionmaker, policy=app.state.routing_policy, links=LINKS)
        )
        try:
            await wait_until(
                lambda: escalations(first), limit_s=30, what="the first escalation committed"
            )
            assert not running.done()
            assert await escalations(second) == 0
            async with sessionmaker() as deciding:
                assert await locks.lock_request(deciding, first) is not None
                await deciding.rollback()
        finally:
            await holder.rollback()
        await asyncio.wait_for(running, 30)
    assert await escalations(second) == 1
