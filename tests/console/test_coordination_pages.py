"""Coordination in the console, through its forms as a browser posts them, on the real stack:
the requester's staff appeal a provincial refusal (the provider's staff may not, and nothing
changes); the provincial government's CDO finds it in 待办, is refused in words without a reason,
and overturns it narrowed; the body that refused is refused in words; a second appeal is refused
in words. A staff member reports a problem (refused in words when it names a body that does not
exist), the provincial bureau's operator finds it in 待办 and answers it (the reporter and the
body named may not, and the report stays open); the reporter and the body named read the
answer; others get "not found"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import select

from broker.audit.actor import Actor
from core.models.problems import ProblemReport
from core.models.requests import Appeal
from testing.appeals import refused_by_province
from testing.audit import actors_of
from testing.clients import ALL_SCOPES, Headers, Sessions, TokenFactory, bearer, file
from testing.console import error_on
from testing.organisations import fresh_body
from testing.people import Console
from testing.workloads import request_body

pytestmark = pytest.mark.integration

DATASET = ("gz-rsj-talent-green-card", ["card_number", "name"])  # gz-rsj decides
OpenConsole = Callable[..., Awaitable[Console]]


async def test_an_appeal_filed_and_overturned_in_the_console(
    client: httpx.AsyncClient, as_org: Headers, console: OpenConsole, sessionmaker: Sessions
) -> None:
    request = await refused_by_province(client, as_org)
    request_id = request["id"]
    staff = await console("gz-rsj", "staff")
    page = await staff.http.get(f"/console/requests/{request_id}")
    assert 'id="appeal-form"' in page.text
    assert "前申请上级首席数据官协调" in page.text

    provider = await console("gd-gat", "staff")
    by_provider = await provider.post(
        f"/console/requests/{request_id}/appeal", {"reason": "我们也想申请协调"}
    )
    assert by_provider.status_code == 403
    assert "只有提出申请的单位" in error_on(by_provider)
    async with sessionmaker() as session:
        assert await session.scalar(select(Appeal).where(Appeal.request_id == request_id)) is None

    no_reason = await staff.post(f"/console/requests/{request_id}/appeal", {"reason": " "})
    assert no_reason.status_code == 422
    assert error_on(no_reason) == "申请协调须填写理由"
    appealed = await staff.post(
        f"/console/requests/{request_id}/appeal", {"reason": "用于人才落户审核，请求协调"}
    )
    assert appealed.status_code == 303, appealed.text
    shown = await staff.http.get(appealed.headers["location"])
    assert "已申请协调" in shown.text
    assert 'id="appeal-form"' not in shown.text

    again = await staff.post(f"/console/requests/{request_id}/appeal", {"reason": "再次申请"})
    assert again.status_code == 409
    assert "每项申请只能申请协调一次" in error_on(again)

    refuser = await console("gd-gat", "cdo", appointed=True)
    assert 'id="coordinate"' not in (await refuser.http.get(f"/console/requests/{request_id}")).text
    by_refuser = await refuser.post(
        f"/console/requests/{request_id}/appeal/decision",
        {"decision": "uphold", "comment": "维持"},
    )
    assert by_refuser.status_code == 403
    assert error_on(by_refuser).startswith("作出原决定的单位不得协调")

    cdo = await console("gd-gov", "cdo", appointed=True)
    tasks = await cdo.http.get("/console/tasks")
    assert f'data-appeal="{request_id}"' in tasks.text
    page = await cdo.http.get(f"/console/requests/{request_id}")
    assert 'id="coordinate"' in page.text
    no_comment = await cdo.post(
        f"/console/requests/{request_id}/appeal/decision",
        {"decision": "overturn", "comment": ""},
    )
    assert no_comment.status_code == 422
    assert error_on(no_comment) == "协调意见须填写理由"
    overturned = await cdo.post(
        f"/console/requests/{request_id}/appeal/decision",
        {
            "decision": "overturn",
            "comment": "人才落户必需，同意核验数据项",
            "fields": ["id_number"],
        },
    )
    assert overturned.status_code == 303, overturned.text
    assert f'data-appeal="{request_id}"' not in (await cdo.http.get("/console/tasks")).text

    after = (await client.get(f"/v1/requests/{request_id}", headers=await as_org("gz-rsj"))).json()
    assert (after["status"], after["granted_fields"]) == ("approved", ["id_number"])
    assert after["appeal"]["decided_by_person"]["name"] == cdo.person.person.name
    grant = await client.get(f"/v1/grants/{after['grant_id']}", headers=await as_org("gz-rsj"))
    assert grant.json()["fields"] == ["id_number"]
    seen = await staff.http.get(f"/console/requests/{request_id}")
    assert "改变原决定" in seen.text
    assert cdo.person.person.name in seen.text
    assert await actors_of(sessionmaker, request_id, "appeal.decided") == [
        Actor("gd-gov", "console", cdo.person.person.id)
    ]
    async with sessionmaker() as session:
        appeal = await session.scalar(select(Appeal).where(Appeal.request_id == request_id))
    assert appeal is not None
    assert appeal.appellant_person_id == staff.person.person.id


async def test_a_problem_reported_and_answered_in_the_console(
    client: httpx.AsyncClient,
    console: OpenConsole,
    sessionmaker: Sessions,
    token_for: TokenFactory,
) -> None:
    reporter_body = await fresh_body(sessionmaker, prefix="prb")
    filed = await file(
        client, bearer(await token_for(reporter_body, ALL_SCOPES)), request_body(*DATASET)
    )
    request_id = filed.json()["id"]
    staff = await console(reporter_body, "staff")
    form = await staff.http.get(
        f"/console/problems/new?request_id={request_id}&organisation_id=gz-rsj"
    )
    assert f'value="{request_id}"' in form.text

    report = {
        "summary": "人社局逾期未答复",
        "details": "申请已提交十个工作日，审批单位未答复。",
        "requests": request_id,
    }
    unknown = await staff.post("/console/problems/new", report | {"organisations": "no-such"})
    assert unknown.status_code == 422
    assert "目录中没有该单位“no-such”" in error_on(unknown)
    async with sessionmaker() as session:
        mine = select(ProblemReport.id).where(ProblemReport.reporter_id == reporter_body)
        assert (await session.scalars(mine)).all() == []

    sent = await staff.post("/console/problems/new", report | {"organisations": "gz-rsj，"})
    assert sent.status_code == 303, sent.text
    problem_path = sent.headers["location"].split("?")[0]
    problem_id = problem_path.rsplit("/", 1)[1]
    assert (
        "问题已反映至省政务服务数据管理局" in (await staff.http.get(sent.headers["location"])).text
    )

    operator = await console("gd-dsb", "bureau_operator")
    assert f'data-problem="{problem_id}"' in (await operator.http.get("/console/tasks")).text
    queue = await operator.http.get("/console/problems")
    assert f'data-problem="{problem_id}"' in queue.text
    assert 'id="answer"' in (await operator.http.get(problem_path)).text
    by_reporter = await staff.post(f"{problem_path}/answer", {"resolution": "自行解决"})
    assert by_reporter.status_code == 403
    named_cdo = await console("gz-rsj", "cdo")
    by_named = await named_cdo.post(f"{problem_path}/answer", {"resolution": "已办"})
    assert by_named.status_code == 403
    assert "反映单位和涉及单位不能答复" in error_on(by_named)
    async with sessionmaker() as session:
        still = await session.get(ProblemReport, problem_id)
        assert still is not None
        assert (still.status, still.resolution, still.answered_at) == ("open", None, None)
    resolution = "已督促广州市人社局三个工作日内答复。"
    answered = await operator.post(f"{problem_path}/answer", {"resolution": resolution})
    assert answered.status_code == 303, answered.text
    twice = await operator.post(f"{problem_path}/answer", {"resolution": "再次答复"})
    assert twice.status_code == 409
    assert "该问题反映已答复" in error_on(twice)

    assert resolution in (await staff.http.get(problem_path)).text
    named = await console("gz-rsj", "staff")
    assert f'data-problem="{problem_id}"' in (await named.http.get("/console/problems")).text
    assert resolution in (await named.http.get(problem_path)).text
    stranger = await console("sz-gaj", "staff")
    hidden = await stranger.http.get(problem_path)
    assert hidden.status_code == 404
    assert "未找到该问题反映" in hidden.text
    assert await actors_of(sessionmaker, problem_id, "problem.answered") == [
        Actor("gd-dsb", "console", operator.person.person.id)
    ]
