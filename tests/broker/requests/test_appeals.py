"""Appeals (申请协调), issue 16: a city department's request refused by a provincial department
goes, on appeal, to the provincial government's CDO, who overturns it and the grant is issued; an
appeal after the deadline, a second one, one by anyone but the requester are refused in words;
neither the requester nor the body that refused decides it. (How an appeal climbs:
test_appeal_moves.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.audit import AuditEntry
from core.models.outbox import OutboxEvent
from core.models.requests import Appeal, DataRequest
from testing.appeals import CROSS_LEVEL, appeal, decide_appeal, refused_by_province
from testing.clients import Headers, decide, file
from testing.workloads import request_body

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]
SAME_LEVEL = ("gz-gaj-household-migration", ["id_number", "name", "migration_type"])  # gz-gaj


async def test_a_provincial_refusal_goes_to_the_provincial_government_which_overturns_it(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions
) -> None:
    request = await refused_by_province(client, as_org)
    appealed = await appeal(client, await as_org("gz-rsj"), request["id"])
    assert appealed.status_code == 201, appealed.text
    filed = appealed.json()["appeal"]
    assert filed["status"] == "pending"
    assert filed["grounds"] == "rejected"
    assert filed["against"] == ["gd-gat"]
    assert [s["organisation_id"] for s in filed["route"]] == ["gd-gov"]

    # the coordinator sees the request; neither the refuser nor the requester decides
    seen = await client.get(f"/v1/requests/{request['id']}", headers=await as_org("gd-gov"))
    assert seen.json()["appeal"]["id"] == filed["id"]
    refuser = await decide_appeal(
        client, await as_org("gd-gat"), request["id"], decision="uphold", comment="维持"
    )
    assert refuser.status_code == 403
    assert refuser.json()["type"].endswith("/refuser-cannot-coordinate")
    requester = await decide_appeal(
        client, await as_org("gz-rsj"), request["id"], decision="overturn", comment="同意"
    )
    assert requester.status_code == 403
    assert requester.json()["type"].endswith("/requester-cannot-decide")
    no_reason = await decide_appeal(
        client, await as_org("gd-gov"), request["id"], decision="overturn", comment=" "
    )
    assert no_reason.status_code == 422

    overturned = await decide_appeal(
        client, await as_org("gd-gov"), request["id"],
        decision="overturn", comment="属于人才落户必需，同意共享",
    )  # fmt: skip
    assert overturned.status_code == 200, overturned.text
    after = overturned.json()
    assert after["status"] == "approved"
    assert after["appeal"]["status"] == "overturned"
    assert after["appeal"]["decided_by"] == "gd-gov"
    grant = await client.get(f"/v1/grants/{after['grant_id']}", headers=await as_org("gz-rsj"))
    assert grant.json()["status"] == "active"
    assert grant.json()["fields"] == CROSS_LEVEL[1]

    # the provider may not decide again, and the appeal was once
    again = await decide(client, await as_org("gd-gat"), request["id"], decision="approve")
    assert again.status_code == 409
    second = await appeal(client, await as_org("gz-rsj"), request["id"])
    assert second.status_code == 409
    assert second.json()["type"].endswith("/appeal-conflict")
    assert "只能申请协调一次" in second.json()["detail"]

    async with sessionmaker() as session:
        events = list(
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.subject == request["id"])
                .order_by(OutboxEvent.id)
            )
        )
        audited = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.subject == request["id"], AuditEntry.action.like("appeal.%"))
                .order_by(AuditEntry.occurred_at, AuditEntry.id)
            )
        )
    types = [e.type.removeprefix("cn.gov.gd.cdo.") for e in events]
    assert "request.appealed" in types
    assert "approval.appeal_requested" in types
    assert types[-1] == "request.appeal_decided"
    task = next(e for e in events if e.type.endswith("approval.appeal_requested"))
    assert task.key == "gd-gov"
    assert task.data["appeal"]["against"] == ["gd-gat"]
    assert task.data["decision_url"].endswith(f"/v1/requests/{request['id']}/appeal/decision")
    assert audited == ["appeal.filed", "appeal.decided"]
    timeline = await client.get(
        f"/v1/requests/{request['id']}/timeline", headers=await as_org("gz-rsj")
    )
    shown = [e["type"] for e in timeline.json()["events"]]
    assert shown[-4:] == [
        "request.appealed",
        "approval.appeal_requested",
        "grant.issued",
        "request.appeal_decided",
    ]


async def test_only_the_coordinator_decides_and_a_refused_decision_changes_nothing(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions
) -> None:
    request = await refused_by_province(client, as_org)
    await appeal(client, await as_org("gz-rsj"), request["id"])
    refusals = {
        "gd-gat": (403, "/refuser-cannot-coordinate"),
        "gz-rsj": (403, "/requester-cannot-decide"),
        "gz-gov": (403, "/not-the-coordinator"),  # endorsed on the route: sees it, decides not
        "sz-gaj": (404, "/not-found"),
    }
    for caller, (status, problem) in refusals.items():
        refused = await decide_appeal(
            client, await as_org(caller), request["id"], decision="overturn", comment="同意"
        )
        assert refused.status_code == status, (caller, refused.text)
        assert refused.json()["type"].endswith(problem), (caller, refused.text)

    after = await client.get(f"/v1/requests/{request['id']}", headers=await as_org("gz-rsj"))
    shown = after.json()
    assert (shown["status"], shown["grant_id"]) == ("rejected", None)
    assert (shown["appeal"]["status"], shown["appeal"]["decided_by"]) == ("pending", None)
    assert [s["organisation_id"] for s in shown["appeal"]["route"]] == ["gd-gov"]
    async with sessionmaker() as session:
        appeal_row = await session.scalar(select(Appeal).where(Appeal.request_id == request["id"]))
        decided = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.subject == request["id"], AuditEntry.action == "appeal.decided")
        )
        told = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(
                OutboxEvent.subject == request["id"],
                OutboxEvent.type.endswith("request.appeal_decided"),
            )
        )
    assert appeal_row is not None
    assert (appeal_row.decided_at, appeal_row.comment, appeal_row.narrowing) == (None, None, None)
    assert (decided, told) == (0, 0)


async def test_appeals_refused_in_words(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions
) -> None:
    request = await refused_by_province(client, as_org)
    by_provider = await appeal(client, await as_org("gd-gat"), request["id"])
    assert by_provider.status_code == 403
    assert by_provider.json()["title"] == "只有申请单位可以申请协调"
    assert "只有提出申请的单位" in by_provider.json()["detail"]
    in_english = await client.post(
        f"/v1/requests/{request['id']}/appeal",
        headers={**await as_org("gd-gat"), "Accept-Language": "en"},
        json={"reason": "我们也想申请协调"},
    )
    assert in_english.json()["title"] == "Only the requesting body may appeal"
    assert in_english.headers["content-language"] == "en"
    by_stranger = await appeal(client, await as_org("sz-gaj"), request["id"])
    assert by_stranger.status_code == 404

    pending = await file(client, await as_org("gz-rsj"), request_body(*CROSS_LEVEL))
    open_one = await appeal(client, await as_org("gz-rsj"), pending.json()["id"])
    assert open_one.status_code == 409
    assert open_one.json()["type"].endswith("/not-appealable")
    assert open_one.json()["detail"].startswith("申请状态为“审批中”")

    async with sessionmaker() as session:
        await session.execute(
            update(DataRequest)
            .where(DataRequest.id == request["id"])
            .values(decided_at=datetime.now(UTC) - timedelta(days=30))
        )
        await session.commit()
    late = await appeal(client, await as_org("gz-rsj"), request["id"])
    assert late.status_code == 409
    assert late.json()["type"].endswith("/appeal-deadline-passed")
    assert "申请协调须在审批决定后10个工作日内提出，期限已于" in late.json()["detail"]
    assert late.json()["deadline"]
    async with sessionmaker() as session:
        assert (
            await session.scalar(select(Appeal).where(Appeal.request_id == request["id"])) is None
        )


async def test_a_narrowed_approval_is_appealed_and_the_coordinator_narrows_less(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    filed = await file(client, await as_org("gz-rsj"), request_body(*SAME_LEVEL))
    request_id = filed.json()["id"]
    narrowed = await decide(
        client, await as_org("gz-gaj"), request_id, decision="approve", fields=["id_number"]
    )
    assert narrowed.json()["granted_fields"] == ["id_number"]
    appealed = await appeal(client, await as_org("gz-rsj"), request_id)
    assert appealed.status_code == 201, appealed.text
    assert appealed.json()["appeal"]["grounds"] == "narrowed"
    assert [s["organisation_id"] for s in appealed.json()["appeal"]["route"]] == ["gz-gov"]
    wider = await decide_appeal(
        client, await as_org("gz-gov"), request_id, decision="overturn",
        comment="姓名为核验所必需", fields=["id_number", "name"],
    )  # fmt: skip
    assert wider.status_code == 200, wider.text
    grant = await client.get(
        f"/v1/grants/{wider.json()['grant_id']}", headers=await as_org("gz-rsj")
    )
    assert grant.json()["fields"] == ["id_number", "name"]


async def test_an_upheld_appeal_changes_nothing(client: httpx.AsyncClient, as_org: Headers) -> None:
    upheld_request = await refused_by_province(client, as_org)
    await appeal(client, await as_org("gz-rsj"), upheld_request["id"])
    upheld = await decide_appeal(
        client, await as_org("gd-gov"), upheld_request["id"],
        decision="uphold", comment="涉及个人信息，维持原决定",
    )  # fmt: skip
    assert upheld.json()["status"] == "rejected"
    assert upheld.json()["grant_id"] is None
    assert upheld.json()["appeal"]["status"] == "upheld"
    assert upheld.json()["appeal"]["comment"] == "涉及个人信息，维持原决定"
    again = await decide_appeal(
        client, await as_org("gd-gov"), upheld_request["id"], decision="overturn", comment="改变"
    )
    assert again.status_code == 409
    assert again.json()["type"].endswith("/appeal-closed")
    assert "申请协调已办结（维持原决定）" in again.json()["detail"]


async def test_a_refused_demand_is_not_appealed(client: httpx.AsyncClient, as_org: Headers) -> None:
    """A demand (data the catalog lacks) has its own rules: only share and return requests,
    where a provider refuses data, are appealed."""
    start = datetime.now(UTC).replace(microsecond=0)
    demand = {
        "kind": "demand",
        "description": "灵活就业人员社保缴费明细（按月）",
        "presumed_provider_id": "gz-rsj",
        "purpose": "核验积分入户申请人的社保缴费年限",
        "period": {"start": start.isoformat(), "end": (start + timedelta(days=365)).isoformat()},
    }
    filed = await file(client, await as_org("gz-gaj"), demand)
    assert filed.status_code == 201, filed.text
    refused = await decide(
        client, await as_org("gz-gov"), filed.json()["id"], decision="reject", comment="不需要"
    )
    assert refused.json()["status"] == "rejected", refused.text
    appealed = await appeal(client, await as_org("gz-gaj"), filed.json()["id"])
    assert appealed.status_code == 409
    assert appealed.json()["type"].endswith("/not-appealable")
    assert appealed.json()["request_kind"] == "demand"
    assert "数据需求、信息化项目不适用" in appealed.json()["detail"]
