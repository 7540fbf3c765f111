"""The data bureau's pages, each over the bureau's own jurisdiction: 督办 (requests stuck or
overdue), grants to pause, resume or revoke, appointments and delegations, and the CDO
evaluation with its CSV. Only a bureau's people read them; only its operators change anything;
a refusal is shown in words and changes nothing."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from broker.audit.actor import Actor
from broker.console.bureau_requests import watch_of
from broker.directory.jurisdiction import covers
from broker.directory.repository import current_view
from broker.requests.schemas import RequestOut
from core.clock import utcnow
from core.models.directory import Appointment, Delegation
from core.models.requests import DataRequest
from testing.audit import actors_of
from testing.clients import ALL_SCOPES, Sessions, TokenFactory, bearer, decide
from testing.console import error_on, pending_at_fresh_provider
from testing.organisations import delegated_by_bureau, fresh_body
from testing.people import Console

pytestmark = pytest.mark.integration

OpenConsole = Callable[..., Awaitable[Console]]


def _row(page: httpx.Response, row_id: str) -> str:
    found = re.search(rf'<tr id="{row_id}".*?</tr>', page.text, re.S)
    return found.group(0) if found else ""


async def test_only_a_bureaus_people_read_its_pages(console: OpenConsole) -> None:
    staff = await console("gz-gaj", "staff")
    operator = await console("gz-dsb", "bureau_operator")
    auditor = await console("gz-dsb", "auditor")

    for page in ("requests", "grants", "directory", "evaluation", "evaluation.csv"):
        refused = await staff.http.get(f"/console/bureau/{page}")
        assert refused.status_code == 403, page
        assert "此页面仅供数据管理局工作人员使用" in refused.text
        assert (await operator.http.get(f"/console/bureau/{page}")).status_code == 200, page
        assert (await auditor.http.get(f"/console/bureau/{page}")).status_code == 200, page


def test_why_a_request_is_watched() -> None:
    now = datetime(2026, 12, 7, 10, tzinfo=UTC)
    step = {
        "index": 0, "role": "provider_cdo", "status": "pending", "required": 1,
        "sla_seconds": 86400, "started_at": now - timedelta(days=1), "due_at": now,
        "on_hold_since": None, "escalations": 0, "approvers": [], "decisions": [],
    }  # fmt: skip
    period = {"start": now, "end": now + timedelta(days=30)}
    request = {
        "id": "req_1", "kind": "share", "status": "pending", "status_reason": None,
        "requester_id": "a", "dataset_id": "d", "provider_id": "b", "fields": ["x"],
        "purpose": "p", "legal_basis": None, "period": period, "jurisdiction": None,
        "granted_fields": ["x"], "granted_period": period, "routing_rule": "r",
        "current_step": 0, "route": [step], "grant_id": None, "trace_id": "t" * 32,
        "created_at": now - timedelta(days=1), "updated_at": now - timedelta(days=1),
        "decided_at": None,
    }  # fmt: skip
    base = RequestOut.model_validate(request)

    def with_step(**changed: Any) -> RequestOut:
        return base.model_copy(update={"route": [base.route[0].model_copy(update=changed)]})

    assert watch_of(base, now) is None  # due this very moment: not yet overdue
    overdue = watch_of(base, now + timedelta(minutes=1))
    assert overdue is not None
    assert overdue.overdue
    held = watch_of(with_step(on_hold_since=now - timedelta(hours=1)), now + timedelta(days=1))
    assert held is not None
    assert (held.on_hold, held.overdue) == (True, False)  # the clock stops while on hold
    escalated = watch_of(with_step(escalations=1, due_at=now + timedelta(days=2)), now)
    assert escalated is not None
    assert escalated.escalated
    idle = watch_of(base.model_copy(update={"updated_at": now - timedelta(days=4)}), now)
    assert idle is not None
    assert (idle.idle, idle.overdue) == (True, False)


async def test_the_watch_list_holds_its_jurisdictions_stuck_requests(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    _, request = await pending_at_fresh_provider(client, token_for, sessionmaker)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(DataRequest)
            .where(DataRequest.id == request["id"])
            .values(updated_at=utcnow() - timedelta(days=4))
        )
    guangzhou = await console("gz-dsb", "bureau_operator")
    province = await console("gd-dsb", "bureau_operator")
    shenzhen = await console("sz-dsb", "bureau_operator")
    entry = re.compile(rf'<li class="task[^"]*" data-request="{request["id"]}">.*?</li>', re.S)

    listed = entry.search((await guangzhou.http.get("/console/bureau/requests")).text)

    assert listed, "the Guangzhou bureau does not see its stuck request"
    assert "三天以上未办理" in listed.group(0)
    assert entry.search((await province.http.get("/console/bureau/requests")).text)
    assert not entry.search((await shenzhen.http.get("/console/bureau/requests")).text)
    # and its page, though the bureau is no party to the request
    assert (await guangzhou.http.get(f"/console/requests/{request['id']}")).status_code == 200
    assert (await shenzhen.http.get(f"/console/requests/{request['id']}")).status_code == 404


async def test_operators_pause_resume_and_revoke_grants_in_their_jurisdiction(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    provider, request = await pending_at_fresh_provider(client, token_for, sessionmaker)
    approved = await decide(
        client, bearer(await token_for(provider, ALL_SCOPES)), request["id"], decision="approve"
    )
    grant = approved.json()["grant_id"]
    operator = await console("gz-dsb", "bureau_operator")
    auditor = await console("gz-dsb", "auditor")
    outsider = await console("sz-dsb", "bureau_operator")
    page = "/console/bureau/grants"

    async def status() -> str:
        found = re.search(r'data-status="(\w+)"', _row(await operator.http.get(page), grant))
        assert found, "the grant is not listed"
        return found.group(1)

    assert "/pause" not in _row(await auditor.http.get(page), grant)
    by_auditor = await auditor.post(f"/console/bureau/grants/{grant}/pause", {}, page=page)
    assert by_auditor.status_code == 403
    assert error_on(by_auditor) == "只有数据管理局工作人员可以办理此事项"
    assert _row(await outsider.http.get(page), grant) == ""
    by_outsider = await outsider.post(f"/console/bureau/grants/{grant}/pause", {}, page=page)
    assert by_outsider.status_code == 404
    assert await status() == "active"
    assert await actors_of(sessionmaker, grant, "grant.paused") == []

    paused = await operator.post(f"/console/bureau/grants/{grant}/pause", {}, page=page)
    assert paused.status_code == 303
    assert await status() == "paused"
    resumed = await operator.post(f"/console/bureau/grants/{grant}/resume", {}, page=page)
    assert resumed.status_code == 303
    assert await status() == "active"
    no_reason = await operator.post(f"/console/bureau/grants/{grant}/revoke", {}, page=page)
    assert no_reason.status_code == 422
    assert error_on(no_reason) == "撤销授权须填写理由"
    assert await status() == "active"
    revoked = await operator.post(
        f"/console/bureau/grants/{grant}/revoke", {"reason": "超范围使用"}, page=page
    )
    assert revoked.status_code == 303
    assert await status() == "revoked"
    api = await client.get(
        f"/v1/grants/{grant}", headers=bearer(await token_for(provider, ALL_SCOPES))
    )
    assert api.json()["status"] == "revoked"
    by_operator = Actor("gz-dsb", "console", operator.person.person.id)
    for action in ("paused", "resumed", "revoked"):
        assert await actors_of(sessionmaker, grant, f"grant.{action}") == [by_operator], action


async def test_operators_end_appointments_and_revoke_delegations(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    provider, request = await pending_at_fresh_provider(client, token_for, sessionmaker)
    deputy = await fresh_body(sessionmaker)
    delegated = await delegated_by_bureau(client, token_for, provider, deputy)
    async with sessionmaker() as session:
        appointment = await session.scalar(
            select(Appointment).where(Appointment.organisation_id == provider)
        )
    assert appointment is not None
    operator = await console("gz-dsb", "bureau_operator")
    outsider = await console("sz-dsb", "bureau_operator")
    page = "/console/bureau/directory"

    listed = await operator.http.get(page)
    assert "in-office" in _row(listed, appointment.id)
    assert _row(listed, delegated["id"])
    assert _row(await outsider.http.get(page), appointment.id) == ""
    outside = await outsider.post(
        f"/console/bureau/appointments/{appointment.id}/end", {"reason": "免职"}, page=page
    )
    assert outside.status_code == 403
    assert error_on(outside) == "该单位不在您的管辖范围内"
    no_reason = await operator.post(
        f"/console/bureau/appointments/{appointment.id}/end", {}, page=page
    )
    assert no_reason.status_code == 422
    assert error_on(no_reason) == "免职须填写事由"
    assert await actors_of(sessionmaker, appointment.id, "cdo.appointment_ended") == []

    revoked = await operator.post(
        f"/console/bureau/delegations/{delegated['id']}/revoke", {}, page=page
    )
    ended = await operator.post(
        f"/console/bureau/appointments/{appointment.id}/end", {"reason": "工作调动"}, page=page
    )

    assert (revoked.status_code, ended.status_code) == (303, 303)
    async with sessionmaker() as session:
        delegation = await session.get(Delegation, delegated["id"])
        after = await session.get(Appointment, appointment.id)
    assert delegation is not None
    assert delegation.revoked_at is not None
    assert after is not None
    assert after.end_reason == "工作调动"
    handed = await client.get(
        f"/v1/requests/{request['id']}", headers=bearer(await token_for("gz-gaj", ALL_SCOPES))
    )
    current = [a for a in handed.json()["route"][0]["approvers"] if a["current"]]
    assert [(a["organisation_id"], a["acting_for"]) for a in current] == [("gz-dsb", provider)]
    by_operator = Actor("gz-dsb", "console", operator.person.person.id)
    assert await actors_of(sessionmaker, appointment.id, "cdo.appointment_ended") == [by_operator]
    assert await actors_of(sessionmaker, delegated["id"], "cdo.delegation_revoked") == [by_operator]


async def test_the_evaluation_covers_the_bureaus_jurisdiction_as_table_chart_data_and_csv(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    provider, request = await pending_at_fresh_provider(client, token_for, sessionmaker)
    decided = await decide(
        client, bearer(await token_for(provider, ALL_SCOPES)), request["id"], decision="approve"
    )
    assert decided.status_code == 200, decided.text
    guangzhou = await console("gz-dsb", "bureau_operator")
    shenzhen = await console("sz-dsb", "bureau_operator")
    today = utcnow().date()
    window = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}&group_by=body"

    page = await guangzhou.http.get(f"/console/bureau/evaluation?{window}")
    data = (await guangzhou.http.get(f"/console/bureau/evaluation.json?{window}")).json()
    exported = await guangzhou.http.get(f"/console/bureau/evaluation.csv?{window}")
    theirs = await shenzhen.http.get(f"/console/bureau/evaluation.csv?{window}")

    shown = set(re.findall(r'<tr data-organisation="([^"]+)"', page.text))
    assert provider in shown
    async with sessionmaker() as session:
        view = await current_view(session, utcnow())
    assert all(covers(view, "gz-dsb", org) for org in shown), shown
    assert "gz-gaj" in shown
    assert "sz-gaj" not in shown
    assert data["legend"]["approved"] == "同意"
    assert any(row["approved"] >= 1 for row in data["rows"])
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(exported.text.removeprefix("\ufeff"))))
    assert {row["单位代码"] for row in rows} == shown  # headed in Chinese, as people read it
    mine = next(row for row in rows if row["单位代码"] == provider)
    assert (mine["审批数"], mine["同意数"]) == ("1", "1")
    english = await guangzhou.http.get(f"/console/bureau/evaluation.csv?{window}&lang=en")
    assert english.text.removeprefix("\ufeff").startswith("organisation_id,")
    assert provider not in theirs.text


async def test_an_appointment_or_delegation_is_ended_by_no_one_else(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    provider = await fresh_body(sessionmaker)
    delegated = await delegated_by_bureau(
        client, token_for, provider, await fresh_body(sessionmaker)
    )
    async with sessionmaker() as session:
        appointment = await session.scalar(
            select(Appointment).where(Appointment.organisation_id == provider)
        )
    assert appointment is not None
    auditor = await console("gz-dsb", "auditor")  # reads the bureau's pages, changes nothing
    outsider = await console("sz-dsb", "bureau_operator")
    page = "/console/bureau/directory"
    end = f"/console/bureau/appointments/{appointment.id}/end"
    revoke = f"/console/bureau/delegations/{delegated['id']}/revoke"

    ended_by_auditor = await auditor.post(end, {"reason": "免职"}, page=page)
    revoked_by_auditor = await auditor.post(revoke, {}, page=page)
    revoked_by_outsider = await outsider.post(revoke, {}, page=page)

    assert ended_by_auditor.status_code == 403
    assert error_on(ended_by_auditor) == "只有数据管理局工作人员可以办理此事项"
    assert revoked_by_auditor.status_code == 403
    assert revoked_by_outsider.status_code == 403
    assert error_on(revoked_by_outsider) == "该单位不在您的管辖范围内"
    async with sessionmaker() as session:
        delegation = await session.get(Delegation, delegated["id"])
        after = await session.get(Appointment, appointment.id)
    assert delegation is not None
    assert delegation.revoked_at is None
    assert after is not None
    assert (after.ends_at, after.end_reason) == (appointment.ends_at, appointment.end_reason)
