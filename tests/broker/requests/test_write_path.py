"""Filing's write path, each of its orderings and savings pinned: the rows are written in
foreign-key order whatever order SQLAlchemy's unit of work would choose, each row once, on
PostgreSQL in one statement; a filing that loses the race for its Idempotency-Key writes nothing;
a step starts the same way at filing and after a decision; a filing rolled back leaves its
Idempotency-Key free."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.calendar.deadlines import deadline_after
from broker.calendar.installed import current
from broker.requests.filing.service import Filed
from broker.requests.lifecycle import StepStatus
from broker.requests.progress import begin_step
from core.clock import utcnow
from core.models import Base
from core.models.audit import AuditEntry
from core.models.outbox import OutboxEvent
from core.models.requests import DataRequest, RequestStep, StepApprover
from testing.clients import Headers, decide, file, route_of
from testing.filing import file_directly
from testing.waiting import wait_until
from testing.workloads import request_body

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]
TWO_STEPS = ("gz-gaj", "gd-rst-social-insurance-enrolment", ["id_number"])
AT_ONCE = ("gz-gaj", "gd-rst-labour-dispatch-licences", ["licence_number"])


async def _file(
    session: AsyncSession, app: FastAPI, case: tuple[str, str, list[str]], **options: Any
) -> Filed:
    requester, dataset, fields = case
    body = request_body(dataset, fields)
    return await file_directly(session, app, requester, body, options.get("idempotency_key"))


@pytest.fixture
def reversed_flush_order() -> Iterator[None]:
    """SQLAlchemy's unit of work writes mappers with no relationship() between them in the order
    of their module and class names. Reversed here, so nothing may depend on that order."""
    mappers = list(Base.registry.mappers)
    saved = {mapper: mapper._sort_key for mapper in mappers}
    for mapper in mappers:
        mapper._sort_key = "".join(chr(0x10FFFF - ord(c)) for c in saved[mapper])
    try:
        yield
    finally:
        for mapper, key in saved.items():
            mapper._sort_key = key


@pytest.mark.usefixtures("reversed_flush_order")
@pytest.mark.parametrize("case", [TWO_STEPS, AT_ONCE], ids=["two steps", "approved at once"])
async def test_filing_writes_in_foreign_key_order_whatever_the_unit_of_works_order(
    app: FastAPI, sessionmaker: Sessions, case: tuple[str, str, list[str]]
) -> None:
    assert StepApprover.__mapper__._sort_key < RequestStep.__mapper__._sort_key  # reversed

    async with sessionmaker() as session:
        filed = await _file(session, app, case)
        await session.commit()

    async with sessionmaker() as session:
        steps = (
            await session.scalars(
                select(RequestStep).where(RequestStep.request_id == filed.request.id)
            )
        ).all()
        approvers = (
            await session.scalars(
                select(StepApprover).where(StepApprover.request_id == filed.request.id)
            )
        ).all()
    assert filed.route is not None
    assert len(steps) == len(filed.route.steps)
    assert len(approvers) == len(filed.route.approvers)
    assert (len(steps) > 0) == (case is TWO_STEPS)


async def _statements_of_filing(
    app: FastAPI, sessionmaker: Sessions, **options: Any
) -> tuple[Filed, list[str]]:
    statements: list[str] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    engine = sessionmaker.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", executed)
    try:
        async with sessionmaker() as session:
            filed = await _file(session, app, TWO_STEPS, **options)
            await session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    return filed, statements


async def test_filing_writes_each_row_once(app: FastAPI, sessionmaker: Sessions) -> None:
    """Its first step is started before the rows are first written: no UPDATE of them follows,
    and each table is written by one statement."""
    filed, statements = await _statements_of_filing(app, sessionmaker)

    assert filed.route is not None
    assert filed.route.steps
    updates = [s for s in statements if s.startswith("UPDATE")]
    assert not [u for u in updates if u.startswith(("UPDATE requests", "UPDATE request_steps"))]
    for table in ("requests", "request_steps", "step_approvers", "outbox_events", "audit_log"):
        writing = [s for s in statements if f"INSERT INTO {table} " in s]
        assert len(writing) == 1, (table, statements)


async def test_filing_writes_in_one_statement_after_reading_its_context(
    app: FastAPI, sessionmaker: Sessions
) -> None:
    """On PostgreSQL the request, its steps, approvers, events and audit row are one statement:
    in a transaction a filing is BEGIN, the context query, that statement and COMMIT."""
    filed, statements = await _statements_of_filing(app, sessionmaker)

    assert filed.created
    assert len(statements) == 2, statements  # BEGIN and COMMIT are not statements
    written = statements[1]
    for table in ("requests", "request_steps", "step_approvers", "outbox_events", "audit_log"):
        assert f"INSERT INTO {table} " in written, table
    # the chain's head, updated (or written, for a chain's first row) in the same statement
    assert "INSERT INTO audit_chain_heads " in written


def _label(statement: str) -> str:
    if statement.startswith("SELECT requester."):
        return "context"
    if statement.startswith("WITH anchor AS (INSERT INTO requests"):
        return "write"
    return statement.split()[0]


async def test_a_filing_through_the_api_is_one_round_trip_once_its_parties_are_kept(
    app: FastAPI, client: httpx.AsyncClient, as_org: Headers
) -> None:
    """Through the API a filing written in one statement runs outside a transaction, and once
    this process keeps its requester, dataset and owner (a filing before it read them) it is
    that statement alone: one round trip, no context read, BEGIN or COMMIT. One approved at once
    (which updates the request and issues a grant after writing it) is filed again in a
    transaction, having written nothing, and reads its context there."""
    engine = app.state.engine.sync_engine
    sent: list[tuple[int, str]] = []

    def executed(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append((id(conn), _label(" ".join(statement.split()))))

    def began(conn: Any) -> None:  # SQLAlchemy says "begin" in autocommit mode too
        if not conn._is_autocommit_isolation():
            sent.append((id(conn), "BEGIN"))

    for case in (TWO_STEPS, AT_ONCE):
        headers = await as_org(case[0])
        before = await file(client, headers, request_body(case[1], case[2]))  # reads, keeps
        assert before.status_code == 201, before.text
        sent.clear()
        event.listen(engine, "before_cursor_execute", executed)
        event.listen(engine, "begin", began)
        try:
            answer = await file(client, headers, request_body(case[1], case[2]))
        finally:
            event.remove(engine, "before_cursor_execute", executed)
            event.remove(engine, "begin", began)
        assert answer.status_code == 201, answer.text
        # The grant feed polls on the same engine: only the filing's connection is looked at.
        contexts = [(i, conn) for i, (conn, what) in enumerate(sent) if what == "context"]
        if case is TWO_STEPS:
            assert contexts == [], sent
            writes = [(i, conn) for i, (conn, what) in enumerate(sent) if what == "write"]
            assert len(writes) == 1, sent
            ((start, conn),) = writes
            assert "BEGIN" not in [what for c, what in sent[start:] if c == conn]
        else:
            assert len(contexts) == 1, sent
            ((at, conn),) = contexts
            assert "BEGIN" in [what for c, what in sent[:at] if c == conn], sent


async def test_a_filing_that_loses_the_race_for_its_key_writes_nothing(
    app: FastAPI, sessionmaker: Sessions
) -> None:
    """Two filings with one key, the second writing while the first is not yet committed: the
    second waits for the first, then writes none of its rows and answers the first's request."""
    key = secrets.token_hex(8)

    async def orphans() -> tuple[int | None, int | None]:
        """Events and audit rows about a request that was not written: what a lost race could
        leave behind (its steps and approvers cannot be written without their request)."""
        written = select(DataRequest.id)
        async with sessionmaker() as session:
            events = await session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.subject.like("req_%"), OutboxEvent.subject.not_in(written))
            )
            audited = await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "request.filed", AuditEntry.subject.not_in(written))
            )
        return events, audited

    before = await orphans()
    async with sessionmaker() as first_session, sessionmaker() as second_session:
        first = await _file(first_session, app, TWO_STEPS, idempotency_key=key)
        second = asyncio.create_task(_file(second_session, app, TWO_STEPS, idempotency_key=key))

        async def second_waits() -> bool:
            async with sessionmaker() as session:
                waiting = await session.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE '%INSERT INTO requests %'"
                    )
                )
            return bool(waiting) or second.done()

        await wait_until(second_waits, limit_s=10, what="the second filing's write to wait")
        await first_session.commit()
        lost = await second
        await second_session.commit()

    assert (lost.created, lost.request.id) == (False, first.request.id)
    assert await orphans() == before
    async with sessionmaker() as session:
        keyed = await session.scalar(
            select(func.count()).select_from(DataRequest).where(DataRequest.idempotency_key == key)
        )
    assert keyed == 1


def test_starting_a_step_makes_it_the_one_awaiting_decisions_with_its_clock_running() -> None:
    now = utcnow()
    request = DataRequest(id="req_x", current_step=None)
    step = RequestStep(id="stp_x", index=1, sla_seconds=3600, status=StepStatus.waiting)

    begin_step(request, step, now)

    assert step.status == StepStatus.pending
    assert step.started_at == now
    assert step.due_at == now + timedelta(hours=1)
    assert request.current_step == 1


async def test_the_first_step_starts_at_filing_as_the_next_starts_after_a_decision(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions
) -> None:
    requester, dataset, fields = TWO_STEPS
    filed = await file(client, await as_org(requester), request_body(dataset, fields))
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    first_approver = route_of(filed.json())[0][0]

    async def started(index: int) -> tuple[RequestStep, DataRequest]:
        async with sessionmaker() as session:
            request = await session.get(DataRequest, request_id)
            step = await session.scalar(
                select(RequestStep).where(
                    RequestStep.request_id == request_id, RequestStep.index == index
                )
            )
        assert request is not None
        assert step is not None
        return step, request

    first, request = await started(0)
    approved = await decide(client, await as_org(first_approver), request_id, decision="approve")
    assert approved.status_code == 200, approved.text
    second, request_later = await started(1)

    for step, at in ((first, request), (second, request_later)):
        assert step.status == StepStatus.pending
        assert step.started_at is not None
        assert step.sla_working_days is not None  # the default policy counts working days
        due = deadline_after(current(), step.started_at, step.sla_working_days)
        assert step.due_at == due.at
        assert at.current_step == step.index


async def test_a_rolled_back_filing_leaves_its_idempotency_key_free(
    app: FastAPI, sessionmaker: Sessions
) -> None:
    """A filing whose transaction rolled back left nothing behind its key: the retry files anew."""
    key = secrets.token_hex(8)

    async with sessionmaker() as session:
        lost = await _file(session, app, TWO_STEPS, idempotency_key=key)
        await session.rollback()

    async with sessionmaker() as session:
        retried = await _file(session, app, TWO_STEPS, idempotency_key=key)
        await session.commit()
    assert retried.created
    assert retried.request.id != lost.request.id
