"""IT projects (信息化项目) through the API: the CDO's veto (一票否决) at initiation and acceptance.
Routed to the CDO of the body running the project, then its government's CDO; a veto needs a
reason and ends the request; whoever filed the project never decides it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.audit import AuditEntry
from core.models.outbox import OutboxEvent
from testing.apps import BASE_URL
from testing.audit import audit_mark, audited_since
from testing.clients import (
    ALL_SCOPES,
    Headers,
    TokenFactory,
    bearer,
    decide,
    file,
    route_of,
    token_from,
)
from testing.oidc import person_tokens, relying_party_of
from testing.people import new_person, sign_in
from testing.settings import Settings
from testing.workloads import project_body, request_body

pytestmark = pytest.mark.integration


async def test_a_project_is_passed_by_its_cdo_and_vetoed_by_its_government(
    client: httpx.AsyncClient,
    as_org: Headers,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    filer = await as_org("gz-gaj")
    filed = await file(client, filer, project_body())
    assert filed.status_code == 201, filed.text
    project = filed.json()
    assert (project["kind"], project["dataset_id"], project["fields"]) == ("it_project", None, [])
    assert project["project"]["stage"] == "initiation"
    assert route_of(project) == [["gz-gaj"], ["gz-gov"]]
    listed = await client.get("/v1/requests", headers=filer, params={"kind": "it_project"})
    assert listed.status_code == 200, listed.text
    assert project["id"] in {r["id"] for r in listed.json()["items"]}
    assert {r["kind"] for r in listed.json()["items"]} == {"it_project"}

    # the body's own CDO decides, but not through the client that filed it
    stranger = await as_org("sz-gaj")
    mark = await audit_mark(sessionmaker)
    by_filer = await decide(client, filer, project["id"], decision="approve")
    assert by_filer.status_code == 403
    assert by_filer.json()["type"].endswith("/requester-cannot-decide")
    # nor may a body the project is not before veto it: it does not even see it
    by_stranger = await decide(client, stranger, project["id"], decision="veto", comment="重复建设")
    assert by_stranger.status_code == 404
    unchanged = (await client.get(f"/v1/requests/{project['id']}", headers=filer)).json()
    assert (unchanged["status"], unchanged["current_step"]) == ("pending", 0)
    assert [s["decisions"] for s in unchanged["route"]] == [[], []]
    assert await audited_since(sessionmaker, mark, actor="gz-gaj") == []
    assert await audited_since(sessionmaker, mark, actor="sz-gaj") == []
    cdo = bearer(await token_for("gz-gaj", ALL_SCOPES))
    rejected = await decide(client, cdo, project["id"], decision="reject", comment="x")
    assert rejected.status_code == 422
    assert rejected.json()["field"] == "decision"
    passed = await decide(client, cdo, project["id"], decision="approve")
    assert passed.status_code == 200, passed.text
    assert passed.json()["current_step"] == 1

    government = await as_org("gz-gov")
    no_reason = await decide(client, government, project["id"], decision="veto")
    assert no_reason.status_code == 422
    reason = "与市政务云统一平台重复建设，不予立项"
    vetoed = await decide(client, government, project["id"], decision="veto", comment=reason)
    assert vetoed.status_code == 200, vetoed.text
    body = vetoed.json()
    assert (body["status"], body["status_reason"], body["grant_id"]) == ("vetoed", reason, None)
    assert body["route"][1]["decisions"][0]["decision"] == "veto"

    async with sessionmaker() as session:
        events = list(
            await session.scalars(
                select(OutboxEvent)
                .where(
                    OutboxEvent.subject == project["id"], OutboxEvent.topic == "datashare.requests"
                )
                .order_by(OutboxEvent.id)
            )
        )
        audit = list(
            await session.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.subject == project["id"], AuditEntry.action == "decision.recorded"
                )
                .order_by(AuditEntry.occurred_at, AuditEntry.id)
            )
        )
    last = events[-1].data
    assert (last["event"], last["detail"]["reason"]) == ("vetoed", reason)
    assert [(a.detail["decision"], a.detail["reason"]) for a in audit] == [
        ("approve", None),
        ("veto", reason),
    ]
    timeline = (await client.get(f"/v1/requests/{project['id']}/timeline", headers=filer)).json()
    veto = [e for e in timeline["events"] if e["decision"] == "veto"]
    assert veto
    assert veto[0]["reason"] == reason


async def test_a_project_a_person_filed_is_not_decided_by_their_system_without_a_person(
    app: FastAPI,
    settings: Settings,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A staff member filed it through the body's system: neither they nor the system's own
    client-credentials token (a decision nobody signed) decides it; the body's CDO, signed in
    through the same system, does."""
    staff = await new_person(sessionmaker, settings, "gz-gaj", "staff")
    cdo = await new_person(sessionmaker, settings, "gz-gaj", "cdo", appointed=True)
    scope = "openid profile requests:submit requests:read approvals:decide"
    transport = httpx.ASGITransport(app=app)
    async with (
        relying_party_of(app, sessionmaker, "gz-gaj", scope) as system,
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as staff_browser,
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as cdo_browser,
    ):
        assert (await sign_in(staff_browser, staff)).status_code == 303
        as_staff = bearer((await person_tokens(system, staff_browser))["access_token"])
        filed = await file(client, as_staff, project_body())
        assert filed.status_code == 201, filed.text
        project_id = filed.json()["id"]
        as_system = bearer(await token_from(client, system.client_id, system.client_secret))

        mark = await audit_mark(sessionmaker)
        by_system = await decide(client, as_system, project_id, decision="approve")
        assert by_system.status_code == 403, by_system.text
        assert by_system.json()["type"].endswith("/requester-cannot-decide")
        by_staff = await decide(client, as_staff, project_id, decision="approve")
        assert by_staff.status_code == 403, by_staff.text
        unchanged = (await client.get(f"/v1/requests/{project_id}", headers=as_staff)).json()
        assert (unchanged["status"], unchanged["current_step"]) == ("pending", 0)
        assert unchanged["route"][0]["decisions"] == []
        assert await audited_since(sessionmaker, mark, actor="gz-gaj") == []

        assert (await sign_in(cdo_browser, cdo)).status_code == 303
        as_cdo = bearer((await person_tokens(system, cdo_browser))["access_token"])
        passed = await decide(client, as_cdo, project_id, decision="approve")
    assert passed.status_code == 200, passed.text
    assert passed.json()["current_step"] == 1
    assert passed.json()["route"][0]["decisions"][0]["decided_by_person"]["id"] == cdo.person.id


async def test_only_a_project_is_vetoed(client: httpx.AsyncClient, as_org: Headers) -> None:
    filed = await file(
        client,
        await as_org("gz-rsj"),
        request_body("gz-gaj-household-migration", ["approved_on"]),
    )
    veto = await decide(
        client, await as_org("gz-gaj"), filed.json()["id"], decision="veto", comment="不同意"
    )
    assert veto.status_code == 422
    assert veto.json()["field"] == "decision"
