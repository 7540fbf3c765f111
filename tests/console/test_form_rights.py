"""A console form grants a person no more than the API grants the same person's token: the
person's body, and what their role's scopes allow (ROLE_SCOPES). A person of the right body in
the wrong role is refused in words, and nothing changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.clock import utcnow
from core.models.problems import ProblemReport
from core.models.requests import Appeal, DataRequest
from testing.appeals import appeal, refused_by_province
from testing.audit import actors_of
from testing.clients import ALL_SCOPES, Headers, Sessions, TokenFactory, bearer
from testing.console import error_on, pending_at_fresh_provider
from testing.people import Console

pytestmark = pytest.mark.integration

OpenConsole = Callable[..., Awaitable[Console]]


async def _step(
    client: httpx.AsyncClient, token_for: TokenFactory, request_id: str
) -> dict[str, Any]:
    headers = bearer(await token_for("gz-gaj", ALL_SCOPES))
    answer = await client.get(f"/v1/requests/{request_id}", headers=headers)
    step: dict[str, Any] = answer.json()["route"][0]
    return step


async def test_only_a_deciding_role_of_the_approver_decides_or_asks(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    provider, request = await pending_at_fresh_provider(client, token_for, sessionmaker)
    page = f"/console/requests/{request['id']}"
    staff = await console(provider, "staff")  # the approver's staff: approvals:decide is not theirs
    auditor = await console(provider, "auditor")

    assert 'id="decide"' not in (await staff.http.get(page)).text
    for person in (staff, auditor):
        asked = await person.post(
            f"{page}/decision", {"action": "clarify", "comment": "请说明用途"}, page=page
        )
        assert asked.status_code == 403
        assert error_on(asked) == "只有首席数据官或数据管理局工作人员可以审批"
        approved = await person.post(
            f"{page}/decision", {"action": "approve", "comment": "同意"}, page=page
        )
        assert approved.status_code == 403

    step = await _step(client, token_for, request["id"])
    assert (step["status"], step["on_hold_since"], step["decisions"]) == ("pending", None, [])
    assert await actors_of(sessionmaker, request["id"], "clarification.asked") == []


async def test_only_the_requesters_staff_answer_a_clarification(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    provider, request = await pending_at_fresh_provider(client, token_for, sessionmaker)
    page = f"/console/requests/{request['id']}"
    cdo = await console(provider, "cdo", appointed=True)
    asked = await cdo.post(
        f"{page}/decision", {"action": "clarify", "comment": "请说明用途"}, page=page
    )
    assert asked.status_code == 303
    own_cdo = await console("gz-gaj", "cdo")
    stranger = await console("gz-rsj", "staff")

    by_own_cdo = await own_cdo.post(f"{page}/answer", {"answer": "用于核验"}, page=page)
    by_stranger = await stranger.post(f"{page}/answer", {"answer": "用于核验"})

    assert by_own_cdo.status_code == 403
    assert error_on(by_own_cdo) == "只有经办人可以办理申请单位的事项"
    assert by_stranger.status_code == 404
    assert (await _step(client, token_for, request["id"]))["on_hold_since"] is not None
    assert await actors_of(sessionmaker, request["id"], "clarification.answered") == []


async def test_only_the_requesters_staff_appeal(
    console: OpenConsole, client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions
) -> None:
    request = await refused_by_province(client, as_org)
    appeal = f"/console/requests/{request['id']}/appeal"
    own_cdo = await console("gz-rsj", "cdo", appointed=True)  # reads the body's requests
    stranger = await console("gz-gaj", "staff")

    by_own_cdo = await own_cdo.post(appeal, {"reason": "请求协调"})
    by_stranger = await stranger.post(appeal, {"reason": "请求协调"})

    assert (
        'id="appeal-form"'
        not in (await own_cdo.http.get(f"/console/requests/{request['id']}")).text
    )
    assert by_own_cdo.status_code == 403
    assert error_on(by_own_cdo) == "只有经办人可以办理申请单位的事项"
    assert by_stranger.status_code == 404
    async with sessionmaker() as session:
        appealed = await session.scalar(
            select(func.count()).select_from(Appeal).where(Appeal.request_id == request["id"])
        )
    assert appealed == 0


async def test_only_staff_file_from_the_form(console: OpenConsole, sessionmaker: Sessions) -> None:
    today = utcnow().date()
    filing = {
        "dataset_id": "gz-rsj-talent-green-card", "fields": ["card_number"],
        "purpose": "核验人才绿卡", "start": today.isoformat(),
        "end": (today + timedelta(days=30)).isoformat(), "kind": "share",
    }  # fmt: skip
    for role in ("cdo", "auditor"):
        person = await console("gz-gaj", role)
        before = utcnow()

        refused = await person.post("/console/requests/new", filing, page="/console/requests/new")

        assert refused.status_code == 403, role
        assert error_on(refused) == "只有经办人可以办理申请单位的事项"
        async with sessionmaker() as session:
            filed = await session.scalar(
                select(func.count())
                .select_from(DataRequest)
                .where(DataRequest.requester_id == "gz-gaj", DataRequest.created_at >= before)
            )
        assert filed == 0, role


async def test_another_bodys_cdo_decides_nothing(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    _, request = await pending_at_fresh_provider(client, token_for, sessionmaker)
    page = f"/console/requests/{request['id']}"
    other = await console("sz-gaj", "cdo", appointed=True)

    for action in ("approve", "clarify"):
        answer = await other.post(f"{page}/decision", {"action": action, "comment": "同意"})
        assert answer.status_code == 404, action

    step = await _step(client, token_for, request["id"])
    assert (step["status"], step["on_hold_since"], step["decisions"]) == ("pending", None, [])
    assert await actors_of(sessionmaker, request["id"], "clarification.asked") == []


async def test_only_the_coordinators_cdo_decides_an_appeal(
    console: OpenConsole, client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions
) -> None:
    request = await refused_by_province(client, as_org)
    appealed = await appeal(client, await as_org("gz-rsj"), request["id"])
    assert appealed.status_code == 201, appealed.text
    decision = f"/console/requests/{request['id']}/appeal/decision"
    overturn = {"decision": "overturn", "comment": "同意", "fields": ["id_number"]}
    staff = await console("gd-gov", "staff")  # the coordinator's staff
    requester_staff = await console("gz-rsj", "staff")

    by_staff = await staff.post(decision, overturn)
    by_requester = await requester_staff.post(decision, overturn)

    assert by_staff.status_code == 403
    assert error_on(by_staff).startswith("您不是该单位在任的首席数据官")
    assert by_requester.status_code == 403
    async with sessionmaker() as session:
        pending = await session.scalar(select(Appeal).where(Appeal.request_id == request["id"]))
    assert pending is not None
    assert (pending.status, pending.decided_at) == ("pending", None)
    state = await client.get(f"/v1/requests/{request['id']}", headers=await as_org("gz-rsj"))
    assert state.json()["status"] == "rejected"


async def test_only_staff_report_and_only_the_provincial_bureau_answers(
    console: OpenConsole, sessionmaker: Sessions
) -> None:
    report = {"summary": "人社局逾期未答复", "details": "申请已提交十个工作日，未获答复。",
              "organisations": "gz-rsj"}  # fmt: skip
    cdo = await console("gz-gaj", "cdo")
    before = utcnow()
    by_cdo = await cdo.post("/console/problems/new", report)
    assert by_cdo.status_code == 403
    assert error_on(by_cdo) == "只有经办人可以反映问题"
    async with sessionmaker() as session:
        filed = await session.scalar(
            select(func.count())
            .select_from(ProblemReport)
            .where(ProblemReport.reporter_id == "gz-gaj", ProblemReport.created_at >= before)
        )
    assert filed == 0

    staff = await console("gz-gaj", "staff")
    sent = await staff.post("/console/problems/new", report)
    assert sent.status_code == 303, sent.text
    answer = sent.headers["location"].split("?")[0] + "/answer"
    named_cdo = await console("gz-rsj", "cdo", appointed=True)  # sees the report, answers nothing
    auditor = await console("gd-dsb", "auditor")  # the bureau's, in a role that answers nothing

    by_named = await named_cdo.post(answer, {"resolution": "已答复"})
    by_auditor = await auditor.post(answer, {"resolution": "已答复"})

    assert by_named.status_code == 403
    assert error_on(by_named).startswith("问题反映由省政务服务数据管理局答复")
    assert by_auditor.status_code == 403
    assert error_on(by_auditor) == "只有首席数据官或数据管理局工作人员可以答复"
    async with sessionmaker() as session:
        still = await session.get(ProblemReport, answer.split("/")[-2])
    assert still is not None
    assert (still.status, still.answered_at) == ("open", None)
