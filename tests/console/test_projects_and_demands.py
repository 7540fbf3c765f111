"""The kinds that name no dataset, in the console: an IT project (信息化项目) comes to its own
body's CDO in 待办, who passes it or vetoes it (一票否决, with a reason) from its page; a demand's
page says what data is wanted and from whom. Neither shows fields to tick."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from testing.clients import ALL_SCOPES, Sessions, TokenFactory, bearer, file
from testing.console import error_on
from testing.organisations import fresh_body
from testing.people import Console

pytestmark = pytest.mark.integration

OpenConsole = Callable[..., Awaitable[Console]]


def _project(name: str) -> dict[str, Any]:
    return {
        "kind": "it_project", "purpose": "建设全市户政业务一体化平台，替代分散的区级系统",
        "project": {"name": name, "code": "GZ-2026-017", "budget_cny": 12_800_000,
                    "stage": "initiation"},
    }  # fmt: skip


async def test_a_body_s_cdo_passes_or_vetoes_its_it_project(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    body = await fresh_body(sessionmaker)
    system = bearer(await token_for(body, ALL_SCOPES))  # a system files; the CDO decides
    passed = (await file(client, system, _project("户政一体化平台"))).json()
    vetoed = (await file(client, system, _project("重复建设的平台"))).json()
    cdo = await console(body, "cdo", appointed=True)

    tasks = (await cdo.http.get("/console/tasks")).text
    assert re.search(rf'data-request="{passed["id"]}">.*?户政一体化平台', tasks, re.S)
    page = f"/console/requests/{vetoed['id']}"
    shown = (await cdo.http.get(page)).text
    facts = r'id="project">重复建设的平台 <code>GZ-2026-017</code> · 立项 · 预算 12,800,000 元'
    assert re.search(facts, shown)
    assert 'value="veto"' in shown
    assert 'value="reject"' not in shown
    assert 'name="fields"' not in shown
    assert 'name="end"' not in shown

    no_reason = await cdo.post(f"{page}/decision", {"action": "veto"}, page=page)
    assert no_reason.status_code == 422
    assert error_on(no_reason) == "一票否决须填写理由"
    vetoing = await cdo.post(
        f"{page}/decision", {"action": "veto", "comment": "与市政务云统一平台重复建设"}, page=page
    )
    assert vetoing.status_code == 303, error_on(vetoing)
    assert '<small class="status status-vetoed">已否决</small>' in (await cdo.http.get(page)).text

    passing = await cdo.post(
        f"/console/requests/{passed['id']}/decision", {"action": "approve"}, page=page
    )
    assert passing.status_code == 303, error_on(passing)
    after = await client.get(f"/v1/requests/{passed['id']}", headers=system)
    assert (after.json()["status"], after.json()["current_step"]) == ("pending", 1)


async def test_a_demand_s_page_says_what_is_wanted_from_whom(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    demand = await file(
        client, bearer(await token_for("gz-gaj", ALL_SCOPES)),
        {"kind": "demand", "description": "灵活就业人员社保缴费明细（按月）",
         "presumed_provider_id": "gz-rsj", "purpose": "核验积分入户申请人的社保缴费年限",
         "period": {"start": start.isoformat(), "end": (start + timedelta(days=365)).isoformat()}},
    )  # fmt: skip
    assert demand.status_code == 201, demand.text
    staff = await console("gz-gaj", "staff")

    page = (await staff.http.get(f"/console/requests/{demand.json()['id']}")).text
    listed = (await staff.http.get("/console/requests")).text

    assert "<h1>数据需求" in page
    assert "<dt>所需数据</dt><dd>灵活就业人员社保缴费明细（按月）</dd>" in page
    assert "<dt>拟提供单位</dt><dd>广州市人力资源和社会保障局</dd>" in page
    assert "<dt>数据资源</dt>" not in page
    assert 'class="fields"' not in page
    assert re.search(rf'data-request="{demand.json()["id"]}">.*?灵活就业人员社保缴费明细', listed)
