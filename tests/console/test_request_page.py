"""A request's page: the dataset's fields with those asked for marked and personal ones flagged,
the trace id (linked to the viewer only when TRACE_UI_URL is set: see
tests/broker/requests/test_timeline_trace_links.py), and the timeline in the scheme's words,
Chinese unless `?lang=en`."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from core.models.catalog import Dataset
from testing.clients import ALL_SCOPES, Sessions, TokenFactory, bearer, file
from testing.console import error_on
from testing.organisations import fresh_body
from testing.people import Console
from testing.workloads import request_body

pytestmark = pytest.mark.integration

FIELD = re.compile(r'<li class="(wanted|unwanted)" data-field="([^"]+)">(.*?)</li>', re.S)
EVENT = re.compile(r'<li data-type="([^"]+)">[^·]*· ([^·<]+)')
OpenConsole = Callable[..., Awaitable[Console]]


async def _filed(client: httpx.AsyncClient, token_for: TokenFactory) -> dict[str, Any]:
    headers = bearer(await token_for("gz-rsj", ALL_SCOPES))
    filed = await file(client, headers, request_body("gz-gaj-household-migration", ["id_number"]))
    assert filed.status_code == 201, filed.text
    answer: dict[str, Any] = filed.json()
    return answer


async def test_without_a_viewer_the_trace_id_is_plain_text(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    staff = await console("gz-rsj", "staff")
    filed = await _filed(client, token_for)

    page = await staff.http.get(f"/console/requests/{filed['id']}")

    assert filed["trace_id"] in page.text
    assert 'class="trace"' not in page.text


async def test_the_datasets_fields_show_which_were_asked_for_and_which_are_personal(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    provider = await fresh_body(sessionmaker)
    dataset = f"sec-{secrets.token_hex(5)}"
    async with sessionmaker() as session, session.begin():
        session.add(Dataset(
            id=dataset, name="人员核验数据", name_en="Persons", owner_id=provider,
            sharing_class="conditional",
            fields=[{"name": "id_number", "label": "公民身份号码", "personal": True,
                     "sensitive": True},
                    {"name": "name", "label": "姓名", "personal": True},
                    {"name": "status", "label": "状态"},
                    {"name": "district", "label": "所在区"}],
        ))  # fmt: skip
    requester = bearer(await token_for("gz-gaj", ALL_SCOPES))
    filed = await file(client, requester, request_body(dataset, ["id_number", "name", "status"]))
    assert filed.status_code == 201, filed.text
    page = f"/console/requests/{filed.json()['id']}"
    cdo = await console(provider, "cdo", appointed=True)

    shown = FIELD.findall((await cdo.http.get(page)).text)

    assert [(name, wanted) for wanted, name, _ in shown] == [
        ("id_number", "wanted"), ("name", "wanted"), ("status", "wanted"),
        ("district", "unwanted"),
    ]  # fmt: skip
    marks = {name: re.findall(r'class="mark[^"]*">([^<]+)<', entry) for _, name, entry in shown}
    assert marks["id_number"] == ["申请使用", "个人信息", "敏感个人信息"]
    assert marks["name"] == ["申请使用", "个人信息"]
    assert marks["status"] == ["申请使用"]
    assert marks["district"] == []

    narrowing = {"action": "approve", "fields": ["id_number", "status"]}
    unexplained = await cdo.post(f"{page}/decision", narrowing, page=page)
    assert unexplained.status_code == 422  # personal information: the CDO says why
    assert error_on(unexplained) == (
        "须说明授予个人信息的理由（最小必要原则）：本次同意将授予个人信息数据项（id_number），"
        "请在审批意见中说明必要性，或缩小数据项范围"
    )
    narrowed = await cdo.post(
        f"{page}/decision", narrowing | {"comment": "核验身份所需"}, page=page
    )
    assert narrowed.status_code == 303, error_on(narrowed)
    after = {name: entry for _, name, entry in FIELD.findall((await cdo.http.get(page)).text)}
    assert "未获同意" in after["name"]
    assert "未获同意" not in after["id_number"]


async def test_the_timeline_names_events_in_chinese_and_in_english(
    console: OpenConsole, client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    staff = await console("gz-rsj", "staff")
    filed = await _filed(client, token_for)

    chinese = EVENT.findall((await staff.http.get(f"/console/requests/{filed['id']}")).text)
    english = EVENT.findall((await staff.http.get(f"/console/requests/{filed['id']}?lang=en")).text)

    said = {kind: label.strip() for kind, label in chinese}
    assert said["request.submitted"] == "申请已提交"
    assert said["request.routed"] == "已生成审批流程"
    assert said["approval.requested"] == "已通知审批单位"
    assert {kind: label.strip() for kind, label in english}["request.submitted"] == "request filed"
    assert [kind for kind, _ in chinese] == [kind for kind, _ in english]
