"""Issue 12's findings, played as an attacker holding a body's demo client would, over real HTTP
against a served broker: each attack is refused, and nothing it tried changed anything.

Findings: 1 (a city bureau delegates provincial bodies' decisions to itself and grants itself
their data), 2 (the requester decides its own request: acting for a body without a CDO, by
escalation, as its own government), 3 (admin writes outside the caller's jurisdiction), 5 (a
body whose appointment ended still decides) and 6 (a revoked client's tokens, dataset tokens
for any client, unbounded and unrevocable delegations, a delegate reading its delegator's
filings).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from broker.directory.repository import directory_snapshot
from broker.requests.sla import escalate_step
from core.clock import utcnow
from core.models.audit import AuditEntry
from core.models.directory import Appointment
from core.models.grants import Grant
from core.models.outbox import OutboxEvent
from core.models.requests import DataRequest, Decision, RequestStep, StepApprover
from testing.apps import LINKS
from testing.audit import audit_mark, audited_since
from testing.clients import Party, PartyFactory, Sessions, route_of
from testing.organisations import delegation_body, fresh_body, fresh_dataset
from testing.processes import cdo_broker
from testing.workloads import request_body

pytestmark = pytest.mark.integration


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(f"/{slug}"), body
    return body


async def _file(party: Party, dataset: str, fields: list[str]) -> dict[str, Any]:
    filed = await party.http.post("/v1/requests", json=request_body(dataset, fields))
    assert filed.status_code == 201, filed.text
    return dict(filed.json())


async def _delegations(party: Party, org: str) -> list[dict[str, Any]]:
    answer = await party.http.get(f"/v1/organisations/{org}/delegations")
    assert answer.status_code == 200, answer.text
    return list(answer.json())


async def _request_rows(sessionmaker: Sessions, request_id: str) -> tuple[Any, ...]:
    """Everything deciding could have changed about a request."""
    async with sessionmaker() as session:
        request = await session.get(DataRequest, request_id)
        assert request is not None
        decisions = list(
            await session.scalars(select(Decision.id).where(Decision.request_id == request_id))
        )
        grants = list(await session.scalars(select(Grant.id).where(Grant.request_id == request_id)))
        return request.status, request.current_step, decisions, grants


async def _decision_refused(
    sessionmaker: Sessions, party: Party, request_id: str, status: int, slug: str | None = None
) -> None:
    """`party` approves `request_id`: refused with `status` (and problem `slug`), and the
    request, its decisions and grants are as they were."""
    before = await _request_rows(sessionmaker, request_id)
    decided = await party.http.post(
        f"/v1/requests/{request_id}/decision", json={"decision": "approve"}
    )
    if slug is None:
        assert decided.status_code == status, decided.text
    else:
        _problem(decided, status, slug)
    assert await _request_rows(sessionmaker, request_id) == before


# --- finding 1: a city bureau grants itself provincial data --------------------------------


async def test_a_city_bureau_cannot_delegate_bodies_to_itself(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    """gd-gat is outside gz-dsb's jurisdiction; gz-gov is inside it, but a bureau filing a
    delegation for another body may not name itself the delegate."""
    gz_dsb = await party("gz-dsb")
    before = {org: await _delegations(gz_dsb, org) for org in ("gd-gat", "gz-gov")}
    mark = await audit_mark(sessionmaker)

    provincial = await gz_dsb.http.post("/v1/delegations", json=delegation_body("gd-gat", "gz-dsb"))
    own_government = await gz_dsb.http.post(
        "/v1/delegations", json=delegation_body("gz-gov", "gz-dsb")
    )

    body = _problem(provincial, 403, "outside-jurisdiction")
    assert body["field"] == "organisation_id"
    assert "gd-gat" in body["detail"]
    assert _problem(own_government, 403, "self-delegation")["field"] == "delegate_org_id"
    assert {org: await _delegations(gz_dsb, org) for org in ("gd-gat", "gz-gov")} == before
    assert await audited_since(sessionmaker, mark, actor="gz-dsb") == []


async def test_the_full_attack_grants_nothing(party: PartyFactory, sessionmaker: Sessions) -> None:
    """gz-dsb delegates gd-gat and gz-gov to itself, files for gd-gat's population data and
    approves both steps "on behalf of" the real CDOs, then asks for a dataset token: refused
    at every step, and the request is as filing left it."""
    gz_dsb = await party("gz-dsb")
    for org in ("gd-gat", "gz-gov"):
        taken = await gz_dsb.http.post("/v1/delegations", json=delegation_body(org, "gz-dsb"))
        assert taken.status_code == 403, taken.text
    request = await _file(gz_dsb, "gd-gat-population-basic", ["id_number", "name"])
    assert route_of(request) == [["gz-gov"], ["gd-gat"]]
    state = await _request_rows(sessionmaker, request["id"])
    mark = await audit_mark(sessionmaker)

    for _ in range(2):  # "both steps"
        await _decision_refused(sessionmaker, gz_dsb, request["id"], 403, "requester-cannot-decide")
    token = await gz_dsb.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "dataset:gd-gat-population-basic:read"},
        auth=(gz_dsb.client_id, gz_dsb.secret),
    )

    assert token.status_code == 400, token.text
    assert token.json()["error"] == "invalid_scope"
    assert await _request_rows(sessionmaker, request["id"]) == state
    assert [e.action for e in await audited_since(sessionmaker, mark, actor="gz-dsb")] == [
        "token.refused"
    ]


# --- finding 2: the requester approves its own request --------------------------------------


async def test_a_bureau_does_not_act_for_a_body_in_its_own_request(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    """gz-jyj has no CDO, so gz-dsb would act for it; gz-dsb filed, so the province decides."""
    gz_dsb = await party("gz-dsb")
    request = await _file(gz_dsb, "gz-jyj-student-status", ["student_number"])

    [[approver]] = [step["approvers"] for step in request["route"]]
    assert (approver["organisation_id"], approver["acting_for"]) == ("gd-dsb", "gz-jyj")
    await _decision_refused(sessionmaker, gz_dsb, request["id"], 403, "requester-cannot-decide")


async def test_escalation_skips_the_requester(
    party: PartyFactory, sessionmaker: Sessions, app: FastAPI
) -> None:
    """sz-dsb files for sz-gaj's data and lets two steps lapse: sz-gaj, then sz-gov; the next
    body up would be sz-dsb itself, so the step goes to the province's bureau."""
    sz_dsb = await party("sz-dsb")
    request = await _file(sz_dsb, "sz-gaj-residence-registration", ["id_number"])
    assert route_of(request) == [["sz-gaj"]]

    for _ in range(2):
        async with sessionmaker() as session, session.begin():
            step = await session.scalar(
                select(RequestStep).where(RequestStep.request_id == request["id"])
            )
            assert step is not None
            now = utcnow()
            view = (await directory_snapshot(session, now)).view
            await escalate_step(
                session, step, directory=view, policy=app.state.routing_policy, now=now,
                links=LINKS,
            )  # fmt: skip
    async with sessionmaker() as session:
        approvers = list(
            await session.scalars(
                select(StepApprover)
                .where(StepApprover.request_id == request["id"])
                .order_by(StepApprover.added_at)
            )
        )
    assert [a.organisation_id for a in approvers] == ["sz-gaj", "sz-gov", "gd-dsb"]
    assert [a.organisation_id for a in approvers if a.replaced_at is None] == ["gd-dsb"]
    await _decision_refused(sessionmaker, sz_dsb, request["id"], 403, "requester-cannot-decide")


async def test_a_government_does_not_endorse_its_own_cross_level_request(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    sz_gov = await party("sz-gov")
    request = await _file(sz_gov, "gd-gat-population-basic", ["id_number"])

    endorsing = request["route"][0]["approvers"]
    assert [(a["organisation_id"], a["acting_for"]) for a in endorsing] == [("sz-dsb", "sz-gov")]
    await _decision_refused(sessionmaker, sz_gov, request["id"], 403, "requester-cannot-decide")


async def test_a_delegate_that_is_the_requester_cannot_decide(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    """gz-gaj's CDO really delegates to gz-dsb; gz-dsb then files for gz-gaj's data."""
    gz_gaj = await party("gz-gaj")
    gz_dsb = await party("gz-dsb")
    delegated = await gz_gaj.http.post("/v1/delegations", json=delegation_body(None, "gz-dsb"))
    assert delegated.status_code == 201, delegated.text
    try:
        request = await _file(gz_dsb, "gz-gaj-household-migration", ["id_number"])
        assert route_of(request) == [["gz-gaj"]]
        await _decision_refused(sessionmaker, gz_dsb, request["id"], 403, "requester-cannot-decide")
    finally:  # gz-dsb deciding for gz-gaj must not outlive this test
        revoked = await gz_gaj.http.post(f"/v1/delegations/{delegated.json()['id']}/revoke")
        assert revoked.status_code == 200, revoked.text


# --- finding 3: unscoped, unaudited admin writes --------------------------------------------


async def test_a_city_bureau_cannot_reclass_a_provincial_dataset(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    gz_dsb = await party("gz-dsb")
    before = (await gz_dsb.http.get("/v1/datasets/gd-gat-motor-vehicles")).json()
    mark = await audit_mark(sessionmaker)

    patched = await gz_dsb.http.patch(
        "/v1/datasets/gd-gat-motor-vehicles", json={"sharing_class": "unconditional"}
    )

    body = _problem(patched, 403, "outside-jurisdiction")
    assert body["field"] == "dataset_id"
    assert (await gz_dsb.http.get("/v1/datasets/gd-gat-motor-vehicles")).json() == before
    assert before["sharing_class"] == "conditional"
    assert await audited_since(sessionmaker, mark, actor="gz-dsb") == []
    # and so the next filing is routed, not approved at once
    request = await _file(gz_dsb, "gd-gat-motor-vehicles", ["plate_number"])
    assert request["status"] == "pending"


async def test_a_city_bureau_cannot_appoint_end_or_add_outside_its_city(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    gz_dsb = await party("gz-dsb")
    sz_history = (await gz_dsb.http.get("/v1/organisations/sz-gaj/appointments")).json()
    gd_history = (await gz_dsb.http.get("/v1/organisations/gd-gov/appointments")).json()
    mark = await audit_mark(sessionmaker)
    bureau_id = f"sec-sz-{secrets.token_hex(4)}"

    appointed = await gz_dsb.http.post(
        "/v1/appointments",
        json={
            "organisation_id": "sz-gaj",
            "person_name": "冒名顶替",
            "title": "副局长",
            "appointed_by": "广州市政务服务数据管理局",
            "filed_with_id": "gz-dsb",
            "starts_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "replaces": next(a["id"] for a in sz_history if a["ends_at"] is None),
        },
    )
    [current] = [a for a in gd_history if a["ends_at"] is None]
    ended = await gz_dsb.http.post(
        f"/v1/appointments/{current['id']}/end", json={"reason": "越权终止"}
    )
    created = await gz_dsb.http.post(
        "/v1/organisations",
        json={
            "id": bureau_id,
            "name": "冒设数据局",
            "name_en": "A bureau Guangzhou may not add",
            "kind": "data_bureau",
            "level": "city",
            "division_code": "440300",
            "government_id": "sz-gov",
        },
    )

    assert _problem(appointed, 403, "outside-jurisdiction")["field"] == "organisation_id"
    assert _problem(ended, 403, "outside-jurisdiction")["field"] == "appointment_id"
    assert _problem(created, 403, "outside-jurisdiction")["field"] == "government_id"
    assert (await gz_dsb.http.get("/v1/organisations/sz-gaj/appointments")).json() == sz_history
    assert (await gz_dsb.http.get("/v1/organisations/gd-gov/appointments")).json() == gd_history
    assert (await gz_dsb.http.get(f"/v1/organisations/{bureau_id}")).status_code == 404
    assert await audited_since(sessionmaker, mark, actor="gz-dsb") == []


async def test_a_bureau_cannot_add_a_second_bureau_that_would_take_its_citys_steps(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    """Routing gives a government's steps to its one bureau, the first by id: "gz-a..." would
    come before gz-dsb and take Guangzhou's steps to a body no system acts for."""
    gz_dsb = await party("gz-dsb")
    bureau_id = f"gz-a-{secrets.token_hex(4)}"
    mark = await audit_mark(sessionmaker)

    created = await gz_dsb.http.post(
        "/v1/organisations",
        json={
            "id": bureau_id,
            "name": "第二数据局",
            "name_en": "A second bureau",
            "kind": "data_bureau",
            "level": "city",
            "division_code": "440100",
            "government_id": "gz-gov",
        },
    )

    assert _problem(created, 409, "organisation-exists")["field"] == "government_id"
    assert (await gz_dsb.http.get(f"/v1/organisations/{bureau_id}")).status_code == 404
    assert await audited_since(sessionmaker, mark, actor="gz-dsb") == []


async def test_admin_writes_inside_the_jurisdiction_are_audited_with_their_actor(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    """The control: the same bureau, on a body of its own city, succeeds, and each write is an
    audit row naming the organisation and the client (a person once people sign in)."""
    gz_dsb = await party("gz-dsb")
    body = await fresh_body(sessionmaker, cdo=False)
    dataset_id = f"sec-{secrets.token_hex(5)}"
    mark = await audit_mark(sessionmaker)

    created = await gz_dsb.http.post(
        "/v1/datasets",
        json={
            "id": dataset_id,
            "name": "测试数据",
            "name_en": "Test data",
            "owner_id": body,
            "sharing_class": "conditional",
            "fields": [{"name": "code", "label": "编码"}],
        },
    )
    patched = await gz_dsb.http.patch(f"/v1/datasets/{dataset_id}", json={"name_en": "Renamed"})
    renamed = await gz_dsb.http.patch(f"/v1/organisations/{body}", json={"name_en": "Renamed"})
    appointed = await gz_dsb.http.post(
        "/v1/appointments",
        json={
            "organisation_id": body,
            "person_name": "新任",
            "title": "副局长",
            "appointed_by": "测试党组",
            "filed_with_id": "gz-dsb",
            "starts_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        },
    )
    ended = await gz_dsb.http.post(
        f"/v1/appointments/{appointed.json()['id']}/end", json={"reason": "调任"}
    )

    for response in (created, patched, renamed, appointed, ended):
        assert response.status_code in (200, 201), response.text
    rows = await audited_since(sessionmaker, mark, actor="gz-dsb")
    assert [(r.action, r.subject) for r in rows] == [
        ("dataset.created", dataset_id),
        ("dataset.changed", dataset_id),
        ("organisation.changed", body),
        ("cdo.appointed", appointed.json()["id"]),
        ("cdo.appointment_ended", appointed.json()["id"]),
    ]
    assert {r.client_id for r in rows} == {gz_dsb.client_id}
    assert all(r.person_id is None for r in rows)  # people sign in in a later issue


# --- finding 5: an ended appointment still decides -------------------------------------------


async def test_a_body_whose_appointment_ended_decides_nothing_and_its_steps_pass_on(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    provider = await fresh_body(sessionmaker)  # a Guangzhou department with a CDO
    dataset_id = await fresh_dataset(sessionmaker, provider)
    gz_gaj, gz_dsb = await party("gz-gaj"), await party("gz-dsb")
    request = await _file(gz_gaj, dataset_id, ["code"])
    assert route_of(request) == [[provider]]
    history = (await gz_dsb.http.get(f"/v1/organisations/{provider}/appointments")).json()

    ended = await gz_dsb.http.post(
        f"/v1/appointments/{history[0]['id']}/end", json={"reason": "免职"}
    )
    assert ended.status_code == 200, ended.text

    after = (await gz_gaj.http.get(f"/v1/requests/{request['id']}")).json()
    [[approver]] = [[a for a in step["approvers"] if a["current"]] for step in after["route"]]
    assert (approver["organisation_id"], approver["acting_for"]) == ("gz-dsb", provider)
    provider_system = await party(provider, "requests:read approvals:decide")
    await _decision_refused(sessionmaker, provider_system, request["id"], 403, "not-the-approver")
    async with sessionmaker() as session:
        tasks = list(
            await session.scalars(
                select(OutboxEvent).where(
                    OutboxEvent.subject == request["id"], OutboxEvent.key == "gz-dsb"
                )
            )
        )
    assert [t.type for t in tasks] == ["cn.gov.gd.cdo.approval.requested"]
    assert tasks[0].data["acting_for"] == provider
    timeline = (await gz_gaj.http.get(f"/v1/requests/{request['id']}/timeline")).json()
    assert "request.reassigned" in [e["type"] for e in timeline["events"]]
    decided = await gz_dsb.http.post(
        f"/v1/requests/{request['id']}/decision", json={"decision": "approve"}
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"


async def test_an_appointment_that_lapsed_unnoticed_still_decides_nothing(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    """Its end date passed with the step still on it (no hand-over has run yet)."""
    provider = await fresh_body(sessionmaker)
    dataset_id = await fresh_dataset(sessionmaker, provider)
    request = await _file(await party("gz-gaj"), dataset_id, ["code"])
    async with sessionmaker() as session, session.begin():
        appointment = await session.scalar(
            select(Appointment).where(Appointment.organisation_id == provider)
        )
        assert appointment is not None
        appointment.ends_at = utcnow() - timedelta(seconds=1)
    provider_system = await party(provider, "requests:read approvals:decide")

    # 403 either way: `cdo-not-in-office`, or `not-the-approver` if the session app's SLA job
    # handed the step over first (tests/broker/requests/test_handover.py pins each path)
    await _decision_refused(sessionmaker, provider_system, request["id"], 403)


# --- finding 6 --------------------------------------------------------------------------------


async def test_a_revoked_clients_tokens_stop_working_at_once(
    party: PartyFactory, sessionmaker: Sessions, migrated: str
) -> None:
    holder = await party("gz-gaj")
    assert (await holder.http.get("/v1/organisations/gz-gaj")).status_code == 200

    revoked = cdo_broker("client", "revoke", "--id", holder.client_id, database_url=migrated)

    assert revoked.returncode == 0, revoked.stderr
    refused = await holder.http.get("/v1/organisations/gz-gaj")
    _problem(refused, 401, "invalid-token")
    again = await holder.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(holder.client_id, holder.secret),
    )
    assert again.status_code == 401, again.text
    async with sessionmaker() as session:
        [row] = await session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "client.revoked", AuditEntry.subject == holder.client_id
            )
        )
    assert row.actor is None  # an operator at the command line, not gz-gaj
    assert row.detail["organisation"] == "gz-gaj"


async def test_only_clients_allowed_grants_use_get_dataset_tokens(party: PartyFactory) -> None:
    grantee = await party("gz-gaj")
    dataset = "gd-rst-labour-dispatch-licences"  # unconditional: granted at filing
    filed = await _file(grantee, dataset, ["licence_number"])
    assert filed["grant_id"], filed
    hooks_only = await party("gz-gaj", "webhooks:manage")
    scope = f"dataset:{dataset}:read"

    refused = await hooks_only.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(hooks_only.client_id, hooks_only.secret),
    )
    allowed = await grantee.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(grantee.client_id, grantee.secret),
    )

    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_scope"
    assert "grants:use" in refused.json()["error_description"]
    assert allowed.status_code == 200, allowed.text


async def test_delegations_are_bounded_and_revocable(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    provider = await fresh_body(sessionmaker)
    own = await party(provider, "requests:read approvals:decide")
    before = await _delegations(own, provider)
    mark = await audit_mark(sessionmaker)

    backdated = await own.http.post(
        "/v1/delegations",
        json=delegation_body(None, "gz-dsb") | {"starts_at": "2000-01-01T00:00:00+08:00"},
    )
    endless = await own.http.post(
        "/v1/delegations",
        json=delegation_body(None, "gz-dsb") | {"ends_at": "2126-01-01T00:00:00+08:00"},
    )

    assert _problem(backdated, 422, "invalid-directory-change")["field"] == "starts_at"
    assert _problem(endless, 422, "invalid-directory-change")["field"] == "ends_at"
    assert await _delegations(own, provider) == before
    assert await audited_since(sessionmaker, mark, actor=provider) == []

    dataset_id = await fresh_dataset(sessionmaker, provider)
    request = await _file(await party("gz-gaj"), dataset_id, ["code"])
    created = await own.http.post("/v1/delegations", json=delegation_body(None, "gz-rsj"))
    assert created.status_code == 201, created.text
    deputy = await party("gz-rsj")
    assert (await deputy.http.get(f"/v1/requests/{request['id']}")).status_code == 200

    revoked = await own.http.post(
        f"/v1/delegations/{created.json()['id']}/revoke", json={"reason": "提前返岗"}
    )

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    # no longer its to see, nor to decide
    await _decision_refused(sessionmaker, deputy, request["id"], 404)
    actions = [
        (r.action, r.subject) for r in await audited_since(sessionmaker, mark, actor=provider)
    ]
    assert actions == [
        ("cdo.delegated", created.json()["id"]),
        ("cdo.delegation_revoked", created.json()["id"]),
    ]


async def test_a_delegate_does_not_see_its_delegators_own_filings(
    party: PartyFactory, sessionmaker: Sessions
) -> None:
    delegator = await fresh_body(sessionmaker)
    own = await party(delegator, "requests:submit requests:read approvals:decide")
    delegated = await own.http.post("/v1/delegations", json=delegation_body(None, "gz-rsj"))
    assert delegated.status_code == 201, delegated.text
    filed = await _file(own, "gz-gaj-household-migration", ["id_number"])
    deputy = await party("gz-rsj")

    assert (await deputy.http.get(f"/v1/requests/{filed['id']}")).status_code == 404
    listed = await deputy.http.get("/v1/requests", params={"dataset_id": filed["dataset_id"]})
    assert filed["id"] not in {r["id"] for r in listed.json()["items"]}
    assert (await deputy.http.get(f"/v1/requests/{filed['id']}/timeline")).status_code == 404
