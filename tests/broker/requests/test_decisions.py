"""Decisions: only the current CDO (or delegate), reasons for rejections, narrowing never
widens, repeats are idempotent, conflicts 409, racing decisions leave exactly one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.calendar.deadlines import china_day, working_time_between
from broker.calendar.installed import current
from core.models.audit import AuditEntry
from core.models.outbox import OutboxEvent
from core.models.requests import Decision
from testing import workloads
from testing.appeals import appeal
from testing.clients import Headers, decide, file
from testing.workloads import request_body

pytestmark = pytest.mark.integration
DATASET = "gz-gaj-household-migration"  # conditional, same level: one step, gz-gaj decides


async def _pending(client: httpx.AsyncClient, as_org: Headers, **extra: Any) -> dict[str, Any]:
    body = request_body(DATASET, ["id_number", "name", "migration_type"], **extra)
    response = await file(client, await as_org("gz-rsj"), body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_rejection_needs_a_reason_and_closes_the_request(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    request = await _pending(client, as_org)
    provider = await as_org("gz-gaj")

    no_reason = await decide(client, provider, request["id"], decision="reject")
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"].startswith("comment")

    rejected = await decide(
        client, provider, request["id"], decision="reject", comment="用途不明确"
    )
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["status_reason"] == "用途不明确"
    assert rejected.json()["grant_id"] is None


async def test_narrowing_grants_less_and_widening_is_refused(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    request = await _pending(client, as_org)
    provider = await as_org("gz-gaj")
    start = datetime.fromisoformat(request["period"]["start"])
    shorter = {"start": start.isoformat(), "end": (start + timedelta(days=90)).isoformat()}
    longer = {"start": start.isoformat(), "end": (start + timedelta(days=900)).isoformat()}

    wider_fields = await decide(
        client, provider, request["id"], decision="approve", fields=["id_number", "gender"]
    )
    assert wider_fields.status_code == 422
    assert wider_fields.json()["field"] == "fields"
    wider_period = await decide(client, provider, request["id"], decision="approve", period=longer)
    assert wider_period.status_code == 422
    assert wider_period.json()["field"] == "period.end"

    approved = await decide(
        client, provider, request["id"], decision="approve", fields=["id_number"], period=shorter
    )
    assert approved.status_code == 200, approved.text
    grant = (await client.get(f"/v1/grants/{approved.json()['grant_id']}", headers=provider)).json()
    assert grant["fields"] == ["id_number"]
    assert datetime.fromisoformat(grant["ends_at"]) == start + timedelta(days=90)


async def test_a_repeat_is_idempotent_and_a_different_decision_is_409(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    request = await _pending(client, as_org)
    provider = await as_org("gz-gaj")

    first = await decide(client, provider, request["id"], decision="approve")
    again = await decide(client, provider, request["id"], decision="approve")
    other = await decide(client, provider, request["id"], decision="reject", comment="改主意")

    assert first.status_code == again.status_code == 200
    assert again.json()["grant_id"] == first.json()["grant_id"]
    assert other.status_code == 409
    assert other.json()["type"].endswith("/decision-conflict")


async def test_racing_decisions_leave_exactly_one(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    request = await _pending(client, as_org)
    provider = await as_org("gz-gaj")

    responses = await asyncio.gather(
        decide(client, provider, request["id"], decision="approve"),
        decide(client, provider, request["id"], decision="reject", comment="不同意"),
        decide(client, provider, request["id"], decision="approve"),
        decide(client, provider, request["id"], decision="reject", comment="不同意"),
    )

    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Decision).where(Decision.request_id == request["id"])
        )
    assert count == 1
    codes = sorted(r.status_code for r in responses)
    assert codes in ([200, 200, 409, 409],)
    final = {r.json()["status"] for r in responses if r.status_code == 200}
    assert len(final) == 1


async def test_a_delegate_decides_on_behalf_of_the_cdo(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    request = await _pending(client, as_org)
    provider = await as_org("gz-gaj")
    now = datetime.now(UTC)
    delegation = await client.post(
        "/v1/delegations",
        headers=provider,
        json={
            "delegate_name": "周代理",
            "delegate_title": "副局长",
            "delegate_org_id": "gz-dsb",
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(days=7)).isoformat(),
        },
    )
    assert delegation.status_code == 201, delegation.text

    later = await _pending(client, as_org)  # filed while the delegation runs
    async with sessionmaker() as session:
        task = await session.scalar(
            select(OutboxEvent).where(
                OutboxEvent.subject == later["id"], OutboxEvent.topic == "datashare.approvals"
            )
        )
    assert task is not None
    assert task.data["delegate_ids"] == ["gz-dsb"]  # the notifier tells the delegate too

    decided = await decide(client, await as_org("gz-dsb"), request["id"], decision="approve")

    assert decided.status_code == 200, decided.text
    decision = decided.json()["route"][0]["decisions"][0]
    assert decision["decided_by"] == "周代理"
    assert decision["on_behalf_of"]
    assert decision["organisation_id"] == "gz-gaj"


async def test_the_requester_cancels_while_undecided_only(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    request = await _pending(client, as_org)
    requester = await as_org("gz-rsj")

    by_provider = await client.post(
        f"/v1/requests/{request['id']}/cancel", headers=await as_org("gz-gaj")
    )
    assert by_provider.status_code == 403
    cancelled = await client.post(f"/v1/requests/{request['id']}/cancel", headers=requester)
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["route"][0]["status"] == "cancelled"
    late = await decide(client, await as_org("gz-gaj"), request["id"], decision="approve")
    assert late.status_code == 409

    approved = await _pending(client, as_org)
    await decide(client, await as_org("gz-gaj"), approved["id"], decision="approve")
    too_late = await client.post(f"/v1/requests/{approved['id']}/cancel", headers=requester)
    assert too_late.status_code == 409


async def test_a_clarification_pauses_the_sla_clock(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    request = await _pending(client, as_org)
    due_before = datetime.fromisoformat(request["route"][0]["due_at"])

    asked = await client.post(
        f"/v1/requests/{request['id']}/clarifications",
        headers=await as_org("gz-gaj"),
        json={"question": "请说明使用场景涉及的业务系统"},
    )
    assert asked.status_code == 201, asked.text
    held = asked.json()["route"][0]
    assert held["status"] == "on_hold"
    on_hold_since = datetime.fromisoformat(held["on_hold_since"])

    answered = await client.post(
        f"/v1/requests/{request['id']}/clarifications/answer",
        headers=await as_org("gz-rsj"),
        json={"answer": "用于人才引进业务系统的户籍核验"},
    )
    assert answered.status_code == 200, answered.text
    step = answered.json()["route"][0]
    assert step["status"] == "pending"
    assert step["on_hold_since"] is None
    due_after = datetime.fromisoformat(step["due_at"])
    answered_at = datetime.fromisoformat(answered.json()["updated_at"])
    # The working time left when the hold began is left when it ends (office hours of working
    # days: a hold over a night or a weekend moves nothing).
    calendar = current()
    left = working_time_between(calendar, on_hold_since, due_before)
    assert working_time_between(calendar, answered_at, due_after) == left
    assert due_after >= due_before
    assert calendar.is_working_day(china_day(due_after))


async def test_the_wrong_party_cancelling_or_clarifying_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    request = await _pending(client, as_org)
    url = f"/v1/requests/{request['id']}"
    refused = [
        await client.post(f"{url}/cancel", headers=await as_org("gz-gaj")),
        await client.post(
            f"{url}/clarifications", headers=await as_org("gz-rsj"), json={"question": "自问"}
        ),
        await client.post(
            f"{url}/clarifications/answer", headers=await as_org("gz-gaj"), json={"answer": "代答"}
        ),
    ]

    assert [r.status_code for r in refused] == [403, 403, 403], [r.text for r in refused]
    after = (await client.get(url, headers=await as_org("gz-rsj"))).json()
    assert (after["status"], after["route"]) == (request["status"], request["route"])
    async with sessionmaker() as session:
        audited = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.subject == request["id"], AuditEntry.action != "request.filed")
        )
    assert audited == 0


async def test_a_decisions_answer_is_the_request_as_read_afterwards(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    """The answer is built from what the decision changed, not read back: it must still show
    the request as any later read does, whichever way the decision goes."""
    requester = workloads.requesters(1)[0]
    filer = await as_org(requester)

    async def answered_as_read(request_id: str, headers: dict[str, str], **body: Any) -> Any:
        answer = await decide(client, headers, request_id, **body)
        assert answer.status_code == 200, answer.text
        read = await client.get(f"/v1/requests/{request_id}", headers=headers)
        assert answer.json() == read.json()
        return answer.json()

    two_steps = (await file(client, filer, workloads.body("answer as read"))).json()
    first = await as_org(workloads.first_approver_of(requester))
    opened = await answered_as_read(two_steps["id"], first, decision="approve")
    assert [s["status"] for s in opened["route"]] == ["approved", "pending"]
    await answered_as_read(two_steps["id"], first, decision="approve")  # a repeat
    second = await as_org(opened["route"][1]["approvers"][0]["organisation_id"])
    granted = await answered_as_read(two_steps["id"], second, decision="approve")
    assert granted["status"] == "approved"
    assert granted["grant_id"] is not None
    repeated = await answered_as_read(two_steps["id"], second, decision="approve")  # closed
    assert repeated["grant_id"] == granted["grant_id"]

    refused = await _pending(client, as_org)
    provider = await as_org("gz-gaj")
    closed = await answered_as_read(
        refused["id"], provider, decision="reject", comment="用途不明确"
    )
    assert (closed["status"], closed["appeal"]) == ("rejected", None)
    appealed = await appeal(client, await as_org("gz-rsj"), refused["id"])
    assert appealed.status_code == 201, appealed.text
    again = await answered_as_read(
        refused["id"], provider, decision="reject", comment="用途不明确"
    )  # a repeat after the appeal: the answer shows it
    assert again["appeal"]["status"] == "pending"
